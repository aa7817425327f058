"""`palbot report` and `palbot grant evaluator … --programme`: files written, bad input
refused, nothing in the database changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.cli import main
from storage.access import Action, load_access, programmes_for
from storage.db import transaction
from storage.models import RoleGrant
from tests.support.evaluation import Story


@pytest.fixture
def story_db(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The story programme in the database the command line reads."""
    with transaction(engine) as session:
        Story(session)
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    return db_url


def test_report_writes_workbook_csv_and_charts(
    story_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "report",
            "--programme",
            "PAL Osiedle Słoneczne",
            "--out",
            str(out / "r.xlsx"),
            "--charts",
            str(out / "charts"),
            "--csv",
            str(out / "csv"),
            "--language",
            "en",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert f"wrote {out / 'r.xlsx'}" in printed and "done in" in printed
    book = load_workbook(out / "r.xlsx")
    assert book.sheetnames == ["Indicators", "Pre-post", "Items", "Consultations", "Definitions"]
    assert sorted(p.name for p in (out / "csv").iterdir()) == [
        "consultations.csv",
        "definitions.csv",
        "indicators.csv",
        "items.csv",
        "prepost.csv",
    ]
    assert sorted(p.name for p in (out / "charts").iterdir()) == [
        "participation_by_month.png",
        "prepost.png",
    ]
    assert (out / "charts" / "prepost.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_row_level_and_one_year(story_db: str, tmp_path: Path) -> None:
    path = tmp_path / "r2025.xlsx"
    assert (
        main(
            [
                "report",
                "--programme",
                "PAL Osiedle Słoneczne",
                "--year",
                "2025",
                "--out",
                str(path),
                "--row-level",
            ]
        )
        == 0
    )
    book = load_workbook(path)
    assert book.sheetnames == [
        "Wskaźniki",
        "Przed i po",
        "Stwierdzenia",
        "Konsultacje",
        "Definicje",
        "Odpowiedzi",
        "Słownik kodów",
    ]
    header = [c.value for c in book["Wskaźniki"][3]]
    assert header == ["Rodzaj wydarzeń", "Wskaźnik", "2025"]
    texts = [c.value for r in book["Przed i po"].iter_rows() for c in r]
    assert (
        "Brak par dopasowanych z ankietą końcową w roku 2025: nikt nie wysłał obu ankiet." in texts
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--min-count", "2"], "at least 3"),
        (["--min-pairs", "2"], "at least 3"),
        (["--out", "report.csv"], "--out must end in .xlsx"),
    ],
)
def test_bad_options_are_refused(
    story_db: str, tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["report", "--programme", "PAL Osiedle Słoneczne", "--out", str(tmp_path / "r.xlsx")]
    assert main(args + argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.xlsx").exists()


def test_unknown_programme_lists_the_known_ones(
    story_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--programme", "PAL Nieznany", "--out", str(tmp_path / "r.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "no programme named 'PAL Nieznany'" in err
    assert "PAL Osiedle Słoneczne; PAL Stare Miasto" in err


def test_a_missing_database_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    monkeypatch.setenv("PALBOT_DATABASE_URL", f"sqlite:///{missing}")
    assert main(["report", "--programme", "X", "--out", str(tmp_path / "r.xlsx")]) == 1
    assert "cannot read the database" in capsys.readouterr().err
    assert not missing.exists()


def test_the_year_must_look_like_a_year(story_db: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--programme", "P", "--year", "25", "--out", str(tmp_path / "r.xlsx")])


def test_grant_evaluator_for_one_programme(
    story_db: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", "evaluator", "555", "--programme", "PAL Stare Miasto"]) == 0
    assert "evaluator granted to 555 for PAL Stare Miasto" in capsys.readouterr().out
    with transaction(engine) as session:
        grants = session.exec(select(RoleGrant).where(RoleGrant.telegram_id == 555)).all()
        assert [g.programme_id is not None for g in grants] == [True]
        allowed = programmes_for(load_access(session, 555), Action.READ_REPORTS)
    assert allowed is not None and len(allowed) == 1
    assert main(["grant", "evaluator", "555", "--programme", "PAL Nieznany"]) == 2
    assert "no programme named 'PAL Nieznany'" in capsys.readouterr().err
