"""The survey commands: check-surveys, set-survey, open-final-survey, export-responses, and
`palbot run` refusing to start on a broken questionnaire."""

from __future__ import annotations

import csv
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.cli import main
from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import PendingSend, Programme, SendKind
from storage.surveys.questionnaire_files import questionnaire_cache
from storage.surveys.questionnaires import SurveyPhase, default_questionnaire_path
from tests.conftest import TEST_TOKEN
from tests.support.signup import make_person, make_programme
from tests.support.surveys import answered_survey, default_data, register, write_yaml

DJG = default_questionnaire_path().parent / "examples" / "dejong_gierveld_6.yaml"


@pytest.fixture(autouse=True)
def _database(monkeypatch: pytest.MonkeyPatch, db_url: str, engine: Engine) -> None:
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    questionnaire_cache.clear()


def test_check_surveys_lists_problems_with_places_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = default_data()
    del data["items"][3]["text"]["pl"]
    data["items"][0]["scale"] = "nope"
    bad = write_yaml(tmp_path / "bad.yaml", data)
    assert main(["check-surveys", str(bad), str(DJG)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:" in out and "items[3].text.pl: missing" in out
    assert f"OK {DJG}: dejong_gierveld_6 version 1" in out


def test_check_surveys_without_files_checks_the_default_and_programmes(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with transaction(engine) as session:
        make_programme(session).survey_path = str(DJG)
    assert main(["check-surveys"]) == 0
    out = capsys.readouterr().out
    assert "OK " in out and "pal_self_assessment version 1" in out and "dejong_gierveld_6" in out


def test_check_and_set_refuse_a_changed_file_under_a_version_with_responses(
    engine: Engine, clock: FrozenClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = default_data()
    path = write_yaml(tmp_path / "ours.yaml", data)
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek")
        programme.survey_path = str(path)
        ola = make_person(session, telegram_id=1, programme=programme)
        answered_survey(
            session,
            person=ola,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            values={},
            now=clock.now(),
        )
    data["items"][0]["text"]["en"] = "I manage everyday things."
    write_yaml(path, data)
    assert main(["check-surveys", str(path)]) == 1
    assert "version: version '1' of 'pal_self_assessment' already has responses" in (
        capsys.readouterr().out
    )
    assert main(["set-survey", "--programme", "PAL Barwinek", str(path)]) == 1
    data["version"] = "2"
    write_yaml(path, data)
    assert main(["check-surveys", str(path)]) == 0
    assert main(["set-survey", "--programme", "PAL Barwinek", str(path)]) == 0


def test_set_survey_checks_the_file_and_guards_comparability(
    engine: Engine, clock: FrozenClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek")
        ola = make_person(session, telegram_id=1, programme=programme)
        answered_survey(
            session,
            person=ola,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            values={},
            now=clock.now(),
        )
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [", encoding="utf-8")
    assert main(["set-survey", "--programme", "PAL Barwinek", str(broken)]) == 1
    assert main(["set-survey", "--programme", "Nieznany", str(DJG)]) == 1
    assert 'no programme named "Nieznany" (programmes: "PAL Barwinek")' in capsys.readouterr().err
    # Initial answers were given to another questionnaire: refused without --force.
    assert main(["set-survey", "--programme", "PAL Barwinek", str(DJG)]) == 1
    assert "incomparable" in capsys.readouterr().err
    assert main(["set-survey", "--programme", "PAL Barwinek", str(DJG), "--force"]) == 0
    with read_only(engine) as session:
        assert session.exec(select(Programme)).one().survey_path == str(DJG.resolve())
    assert main(["set-survey", "--programme", "PAL Barwinek", "--default", "--force"]) == 0
    with read_only(engine) as session:
        assert session.exec(select(Programme)).one().survey_path is None


def test_open_final_survey_invites_and_counts(
    engine: Engine, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek")
        for n in range(3):
            person = make_person(session, telegram_id=100 + n, programme=programme)
            register(
                session,
                person=person,
                programme=programme,
                starts_at=clock.now() - timedelta(days=3),
            )
    assert main(["open-final-survey", "--programme", "PAL Barwinek"]) == 0
    out = capsys.readouterr().out
    assert "opened now" in out and "invited: 3" in out
    assert main(["open-final-survey", "--programme", "PAL Barwinek"]) == 0
    out = capsys.readouterr().out
    assert "was already open" in out and "invited: 0" in out and "(not again): 3" in out
    with read_only(engine) as session:
        invites = session.exec(
            select(PendingSend).where(PendingSend.kind == SendKind.SURVEY_INVITE.value)
        ).all()
    assert len(invites) == 3


def test_export_responses_writes_codes_and_scores_only(
    engine: Engine, clock: FrozenClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with transaction(engine) as session:
        programme = make_programme(session, name="PAL Barwinek")
        ola = make_person(
            session, telegram_id=4242, name="Aleksandra Wiśniewska", programme=programme
        )
        answered_survey(
            session,
            person=ola,
            programme=programme,
            phase=SurveyPhase.INITIAL,
            values={"se_cope": "1", "se_learn": "2", "se_nothing_to_offer": "5"},
            now=clock.now(),
        )
        answered_survey(
            session,
            person=ola,
            programme=programme,
            phase=SurveyPhase.FINAL,
            values={"se_cope": "4", "se_learn": "5", "se_nothing_to_offer": "2"},
            now=clock.now() + timedelta(days=60),
        )
    out = tmp_path / "answers.csv"
    assert main(["export-responses", "--programme", "PAL Barwinek", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote 2 rows" in printed and "(1 participants with both surveys)" in printed
    raw = out.read_text(encoding="utf-8-sig")
    assert "Aleksandra" not in raw and "4242" not in raw
    rows = list(csv.DictReader(raw.splitlines()))
    assert [(r["phase"], r["score:self_esteem"]) for r in rows] == [
        ("initial", "1.333"),
        ("final", "4.333"),
    ]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_run_refuses_to_start_with_a_broken_questionnaire(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = tmp_path / "broken.yaml"
    data = default_data()
    del data["items"][3]["text"]["pl"]
    write_yaml(broken, data)
    with transaction(engine) as session:
        make_programme(session).survey_path = str(broken)
    monkeypatch.setenv("PALBOT_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("PALBOT_API_URL", "http://127.0.0.1:9")  # never reached
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "not starting: a questionnaire file has problems" in err
    assert "items[3].text.pl: missing" in err


def test_check_surveys_never_creates_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "palbot.sqlite3"
    monkeypatch.setenv("PALBOT_DATABASE_URL", f"sqlite:///{missing}")
    assert main(["check-surveys", str(DJG)]) == 0
    assert not missing.exists()
    assert "no database yet" in capsys.readouterr().err
    monkeypatch.setenv("PALBOT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert main(["check-surveys", str(DJG)]) == 0
    assert "versions not compared" in capsys.readouterr().err
