"""The whole report of the story programme: sheets, workbook, CSV, charts — and what must
never be in them (names, Telegram ids, free text, participant codes outside row-level)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.text import Text
from openpyxl import load_workbook
from scipy import stats as sps
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from evaluation.charts import figures, save_charts
from evaluation.disclosure import DisclosureRules
from evaluation.export import report_files
from evaluation.indicators import INDICATORS
from evaluation.options import ReportOptions
from evaluation.report import Report, build_report
from evaluation.source import report_session
from evaluation.tables import Sheet
from evaluation.workbook import write_csv, write_workbook
from storage.db import transaction
from storage.models import ParticipantCode, Person, Programme, SurveyAnswer
from tests.conftest import TEST_NOW
from tests.support.evaluation import (
    TEST_DEFINITION,
    Story,
    answer_survey,
    aware,
    final_answers,
    initial_answers,
    likert,
    make_activity,
    make_person,
    make_programme,
    sign,
)


def _story(engine: Engine) -> int:
    with transaction(engine) as session:
        story = Story(session)
        assert story.programme.id is not None
        return story.programme.id


def _report(engine: Engine, programme_id: int, **options: Any) -> Report:
    with report_session(engine) as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        return build_report(
            session, programme=programme, now=TEST_NOW, options=ReportOptions(**options)
        )


def _sheet(report: Report, key: str) -> Sheet:
    return next(s for s in report.sheets if s.key == key)


def _rows(sheet: Sheet) -> list[list[Any]]:
    return [[c.value for c in row] for row in sheet.rows]


def _row(sheet: Sheet, first: str, second: str | None = None) -> list[Any]:
    """The first row whose first (or, with `second`, second) cell matches."""
    block = None
    for row in _rows(sheet):
        if row and row[0]:
            block = row[0]
        if second is None and row and row[0] == first:
            return row
        if second is not None and block == first and len(row) > 1 and row[1] == second:
            return row
    raise AssertionError(f"no row {first!r} / {second!r}")


def test_indicator_sheet_hides_small_counts_and_their_complements(engine: Engine) -> None:
    report = _report(engine, _story(engine), language="en")
    sheet = _sheet(report, "indicators")
    assert _rows(sheet)[2] == ["Activity category", "Indicator", "2025", "2026", "All years"]
    meetings = "Spotkania sąsiedzkie"
    assert _row(sheet, meetings, "Activities held")[2:] == [1, 0, 1]
    # Sign-ups at meetings: 7 and 3 (3 is small, and 7 would give it away from 10).
    assert _row(sheet, meetings, "Sign-ups")[2:] == ["x", "<5", 10]
    assert _row(sheet, "All activities", "Sign-ups")[2:] == [19, 9, 28]
    assert _row(sheet, "All activities", "People signed up")[2:] == [13, 7, 14]
    assert _row(sheet, "All activities", "Participants (each person once)")[2:] == [9, "<5", 9]
    assert _row(sheet, "All activities", "No-shows")[2:] == ["<5", "<5", "<5"]
    # A rate is hidden whenever a count it is made of is hidden.
    assert _row(sheet, "All activities", "Attendance rate (%)")[2:] == ["x", "x", "x"]
    surveys = "Surveys (whole programme)"
    assert _row(sheet, surveys, "Matched pairs")[2:] == [0, 10, 10]
    assert _row(sheet, surveys, "Initial surveys")[2:] == ["x", "<5", 12]
    rate = _row(sheet, surveys, "Initial survey response rate (%)")
    assert rate[2:4] == ["x", "x"] and rate[4] == pytest.approx(100 * 12 / 14)
    assert _row(sheet, surveys, "Initial surveys followed by a final one (%)")[4] == pytest.approx(
        100 * 10 / 12
    )


def test_monthly_table_and_chart_data_share_the_hiding(engine: Engine) -> None:
    report = _report(engine, _story(engine), language="en")
    months = {m.month: m for m in report.monthly}
    assert str(months["2026-02"].attendances) == "<5"
    # March and June 2025 add up to the 2025 total (hidden): one of them must go too.
    assert {str(months["2025-03"].attendances), str(months["2025-06"].attendances)} == {"x", "7"}
    assert months["2025-03"].activities == 1


def _story_scores() -> tuple[np.ndarray, np.ndarray]:
    """Self-esteem scores of the ten pairs, computed here independently of the code."""

    def score(answers: dict[str, str | None]) -> float:
        values = []
        for item in ("se1", "se2", "se3"):
            raw = answers.get(item)
            if raw is None:
                continue
            values.append(6 - int(raw) if item == "se2" else int(raw))
        return sum(values) / len(values)

    before = np.array([score(initial_answers(i)) for i in range(10)])
    after = np.array([score(final_answers(i)) for i in range(10)])
    return before, after


def test_prepost_sheet_agrees_with_an_independent_computation(engine: Engine) -> None:
    report = _report(engine, _story(engine), language="en")
    sheet = _sheet(report, "prepost")
    assert _row(sheet, "People signed up")[1] == 14
    assert _row(sheet, "Matched pairs")[1] == 10
    headers = _row(sheet, "Subscale")
    row = dict(zip(headers, _row(sheet, "Self-esteem"), strict=False))
    before, after = _story_scores()
    assert row["Pairs"] == 10
    assert row["Before: mean"] == pytest.approx(before.mean())
    assert row["After: median"] == pytest.approx(np.median(after))
    assert row["Mean change"] == pytest.approx((after - before).mean())
    low, high = sps.t.interval(0.95, 9, loc=(after - before).mean(), scale=sps.sem(after - before))
    assert (row["Mean change: 95% CI from"], row["Mean change: 95% CI to"]) == pytest.approx(
        (low, high)
    )
    # Rounded, as scipy's documentation advises: 3.667 − 2.333 and 2.333 − 1.0 must tie.
    exact = sps.wilcoxon(
        np.round(after - before, 9), method=sps.PermutationMethod(n_resamples=np.inf)
    )
    assert row["p"] == pytest.approx(float(exact.pvalue))
    assert row["How p was computed"] == "exact (ties)"
    # Nine rose and one fell: the one is hidden, so the nine must be too.
    assert (row["Improved"], row["Unchanged"], row["Worse"]) == ("x", 0, "<5")
    assert row["Improved (%)"] == "x"
    other = dict(zip(headers, _row(sheet, "Belonging"), strict=False))
    # Holm across two subscales: the larger p is max(2·p_small, p_large).
    p_small, p_large = sorted([row["p"], other["p"]])
    assert row["p (Holm)"] == pytest.approx(2 * p_small)
    assert other["p (Holm)"] == pytest.approx(max(2 * p_small, p_large))


def test_items_sheet_marks_reverse_items_and_shows_final_only_answers(engine: Engine) -> None:
    report = _report(engine, _story(engine), language="en")
    sheet = _sheet(report, "items")
    se2 = _row(sheet, "I often feel I can do nothing.")
    assert se2[1:4] == ["se2", "yes", 10]
    se3 = _row(sheet, "I cope with difficulties.")
    # One person skipped se3 at the start: nine pairs, below the statistics threshold.
    assert se3[3] == 9 and se3[4] is None and se3[-1] == "Fewer than 10 pairs: counts only."
    recommend = _rows(sheet).index(["Would you recommend the activities? (final survey)"])
    answers = _rows(sheet)[recommend + 2 : recommend + 7]
    assert answers == [
        ["1 — Yes", 6, pytest.approx(100 * 6 / 11)],
        ["2 — No", "<5", "x"],
        ["3 — Not sure", "<5", "x"],
        ["No answer", 0, 0.0],
        ["Total", 11],
    ]


def test_definitions_sheet_defines_every_indicator_in_the_language(engine: Engine) -> None:
    report = _report(engine, _story(engine), language="pl")
    values = [c.value for row in _sheet(report, "definitions").rows for c in row]

    for indicator in INDICATORS:
        assert report.t._(indicator.label) in values
        assert report.t._(indicator.definition) in values
    assert "Definicje" in values
    assert any("Wilcoxon" in str(v) for v in values)


def _secrets(engine: Engine) -> list[str]:
    """Everything that identifies a person and must never be in evaluator output."""
    with transaction(engine) as session:
        people = session.exec(select(Person)).all()
        texts = session.exec(select(SurveyAnswer.value).where(SurveyAnswer.item_id == "note")).all()
    found = [p.display_name for p in people if p.display_name]
    found += [str(p.telegram_id) for p in people if p.telegram_id]
    found += [t for t in texts if t]
    return found


def _codes(engine: Engine) -> list[str]:
    with transaction(engine) as session:
        return list(session.exec(select(ParticipantCode.code)).all())


def _output_texts(folder: Path) -> dict[str, str]:
    """Every file's text: XLSX cells and raw XML, CSV, SVG, PNG bytes."""
    out = {}
    for path in folder.rglob("*"):
        if path.suffix == ".xlsx":
            book = load_workbook(path)
            cells = [
                str(c.value)
                for ws in book
                for row in ws.iter_rows()
                for c in row
                if c.value is not None
            ]
            with zipfile.ZipFile(path) as archive:
                raw = [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
            out[str(path)] = "\n".join(cells + raw)
        elif path.is_file():
            out[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return out


@pytest.mark.parametrize("language", ["pl", "uk", "en"])
def test_no_output_contains_a_name_a_telegram_id_or_free_text(
    engine: Engine, tmp_path: Path, language: str
) -> None:
    programme_id = _story(engine)
    report = _report(engine, programme_id, language=language)
    out = tmp_path / "out"  # not tmp_path itself: the test database lives there
    write_workbook(report.sheets, out / "report.xlsx")
    write_csv(report.sheets, out / "csv")
    save_charts(report, out / "charts", formats=("png", "svg"))
    chart_texts = [t.get_text() for fig in figures(report).values() for t in fig.findobj(Text)]
    outputs = _output_texts(out)
    assert len(outputs) == 1 + 5 + 4  # workbook, five CSV files, two charts × two formats
    outputs["figure texts"] = "\n".join(chart_texts)
    secrets = _secrets(engine)
    assert any(s.startswith("Mieszkaniec") for s in secrets) and len(secrets) > 20
    for name, content in outputs.items():
        for secret in secrets:
            assert secret not in content, f"{secret!r} found in {name}"
        for code in _codes(engine):
            assert code not in content, f"participant code {code!r} outside row-level: {name}"


def test_row_level_export_has_codes_but_still_no_names_or_free_text(
    engine: Engine, tmp_path: Path
) -> None:
    programme_id = _story(engine)
    report = _report(engine, programme_id, language="en", row_level=True)
    assert [s.key for s in report.sheets][-2:] == ["responses", "codebook"]
    out = tmp_path / "out"
    write_workbook(report.sheets, out / "report.xlsx")
    write_csv(report.sheets, out / "csv")
    outputs = _output_texts(out)
    for name, content in outputs.items():
        for secret in _secrets(engine):
            assert secret not in content, f"{secret!r} found in {name}"
    responses = (out / "csv" / "responses.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(responses)))
    assert rows[0][:6] == [
        "participant_code",
        "phase",
        "channel",
        "questionnaire_id",
        "questionnaire_version",
        "submitted_month",
    ]
    assert "item_note" not in rows[0]  # free text is not even a column
    assert len(rows) - 1 == 23  # every submitted response of this programme
    story_codes = {r[0] for r in rows[1:]}
    assert story_codes <= set(_codes(engine))
    assert {r[2] for r in rows[1:]} == {"chat", "proxy"}


def test_workbook_formatting(engine: Engine, tmp_path: Path) -> None:
    report = _report(engine, _story(engine), language="pl")
    path = tmp_path / "r.xlsx"
    write_workbook(report.sheets, path)
    book = load_workbook(path)
    assert book.sheetnames == [
        "Wskaźniki",
        "Przed i po",
        "Stwierdzenia",
        "Konsultacje",
        "Definicje",
    ]
    ws = book["Wskaźniki"]
    assert ws.freeze_panes == "C4"
    assert ws["A3"].font.bold and ws["C3"].value == "2025"
    assert ws.column_dimensions["B"].width == 44
    values = {ws.cell(row=r, column=2).value: r for r in range(1, ws.max_row + 1)}
    row = values["Oferowane miejsca"]
    assert isinstance(ws.cell(row=row, column=3).value, int)
    rates = [c for c in ws[values["Odsetek ankiet początkowych (%)"]] if c.value not in (None, "x")]
    percent = rates[-1]
    assert percent.number_format == "0.0%" and percent.value == pytest.approx(12 / 14)
    small = [c for r in ws.iter_rows() for c in r if c.value == "<5"]
    assert small and all(c.data_type == "s" for c in small)
    prepost = book["Przed i po"]
    p_cells = [c for r in prepost.iter_rows() for c in r if c.number_format.endswith(";0.0000")]
    assert p_cells and all(isinstance(c.value, float) for c in p_cells)


def test_csv_writes_one_file_per_sheet_with_plain_numbers(engine: Engine, tmp_path: Path) -> None:
    report = _report(engine, _story(engine), language="en")
    written = write_csv(report.sheets, tmp_path)
    assert [p.name for p in written] == [
        "indicators.csv",
        "prepost.csv",
        "items.csv",
        "consultations.csv",
        "definitions.csv",
    ]
    content = (tmp_path / "indicators.csv").read_text(encoding="utf-8-sig")
    assert ",Places offered,30,5,35" in content
    assert "Initial survey response rate (%),x,x,85.7" in content


def test_a_programme_with_nothing_gets_a_workbook_that_says_so(
    engine: Engine, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        pid = make_programme(session, "PAL Nowy").id
    assert pid is not None
    report = _report(engine, pid, language="en")
    write_workbook(report.sheets, tmp_path / "r.xlsx")
    book = load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["Indicators", "Pre-post", "Items", "Consultations", "Definitions"]
    assert book["Indicators"]["A3"].value == "This programme has no activities and no surveys yet."
    texts = [c.value for r in book["Pre-post"].iter_rows() for c in r]
    assert (
        "No matched pairs yet: nobody has submitted both the initial and the final survey." in texts
    )
    assert report.summary[0] == "This programme has no activities and no surveys yet."
    assert figures(report).keys() == {"participation_by_month"} or not report.monthly


def test_one_year_and_few_pairs_are_said_in_words(engine: Engine) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, "PAL Mały")
        activity = make_activity(
            session, programme, category="Kawiarenka", starts_at=aware(2026, 3, 3)
        )
        for n in range(6):
            person = make_person(session, f"Osoba {n}")
            sign(session, activity, person, attended=True)
            answer_survey(
                session,
                programme,
                person,
                "initial",
                likert(2, 4, 2, 2, 3),
                submitted_at=aware(2026, 3, 1),
            )
            answer_survey(
                session,
                programme,
                person,
                "final",
                likert(4, 2, 4, 3, 3),
                submitted_at=aware(2026, 10, 1),
            )
        pid = programme.id
    assert pid is not None
    report = _report(engine, pid, language="en")
    indicators = _sheet(report, "indicators")
    assert _rows(indicators)[2] == ["The programme has run in one year so far."]
    assert _rows(indicators)[3] == ["Activity category", "Indicator", "2026"]
    sheet = _sheet(report, "prepost")
    row = _row(sheet, "Self-esteem")
    assert row[1] == 6 and row[2] is None and row[-1] == "Fewer than 10 pairs: counts only."
    assert report.summary == ["Fewer than 10 matched pairs: the comparison shows counts only."]
    assert report.subscales == []  # no chart of means from six pairs


def test_lower_threshold_of_three_shows_more(engine: Engine) -> None:
    report = _report(
        engine,
        _story(engine),
        language="en",
        rules=DisclosureRules(min_count=3, min_n_for_statistics=3),
    )
    sheet = _sheet(report, "indicators")
    assert _row(sheet, "Spotkania sąsiedzkie", "Sign-ups")[2:] == [7, 3, 10]
    assert _row(sheet, "All activities", "No-shows")[2:] == ["<3", "<3", 3]


def test_several_questionnaire_versions_and_bad_answers_are_reported(engine: Engine) -> None:
    version_two = {**TEST_DEFINITION, "version": "2"}
    with transaction(engine) as session:
        programme = make_programme(session, "PAL Wersje")
        for n in range(12):
            person = make_person(session, f"Wersja {n}")
            answer_survey(
                session,
                programme,
                person,
                "initial",
                likert(2, 3, 2, 2, 3),
                submitted_at=aware(2026, 2, 1),
            )
            final = likert(4, 2, 3, 3, 4)
            if n == 0:
                final["se1"] = "9"  # not a point of the scale
            answer_survey(
                session,
                programme,
                person,
                "final",
                final,
                submitted_at=aware(2026, 9, 1),
                definition=version_two,
            )
        pid = programme.id
    assert pid is not None
    report = _report(engine, pid, language="en")
    texts = [c.value for row in _sheet(report, "prepost").rows for c in row]
    assert any(
        str(t).startswith(
            "Responses were given to several questionnaire versions: "
            "test-self 1 (12), test-self 2 (12)"
        )
        for t in texts
    )
    assert "1 answer is not among its statement's answers and was left out." in texts
    assert _row(_sheet(report, "prepost"), "Self-esteem")[1] == 12


def test_reports_never_write(engine: Engine) -> None:
    pid = _story(engine)

    def counts() -> list[int]:
        with transaction(engine) as session:
            tables = [
                "programme",
                "activity",
                "registration",
                "person",
                "surveyresponse",
                "surveyanswer",
                "participantcode",
                "surveyversion",
            ]
            return [
                session.connection().execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in tables
            ]

    before = counts()
    report_files(engine, programme_id=pid, now=TEST_NOW, options=ReportOptions(row_level=True))
    assert counts() == before
    with report_session(engine) as session, pytest.raises(OperationalError):
        session.connection().execute(text("DELETE FROM surveyanswer"))
