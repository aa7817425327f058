"""`palbot import-activities` prints bad rows and imports nothing, or imports everything."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli import main
from storage.db import make_engine
from storage.models import Activity

HEADER = "title;category;starts_at;ends_at;venue;places\n"
GOOD = "Warsztaty;warsztaty;2026-12-01 17:00;2026-12-01 19:00;Klub Sąsiedzki;10\n"


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PALBOT_DATABASE_URL", url)
    return url


def _activities(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        count = len(session.exec(select(Activity)).all())
    engine.dispose()
    return count


def test_bad_rows_are_listed_and_nothing_is_imported(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "zajecia.csv"
    path.write_bytes(
        ("\ufeff" + HEADER + GOOD + "Piknik;;2026-12-02 17:00;jutro;Park;-3\n").encode()
    )
    assert main(["import-activities", str(path), "--programme", "PAL Barwinek"]) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "line 3: category is empty" in err and "jutro" in err and "between 1 and" in err
    assert _activities(db) == 0


def test_import_then_reimport(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "zajecia.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    assert main(["import-activities", str(path), "--programme", "PAL Barwinek"]) == 0
    out = capsys.readouterr().out
    assert 'created programme "PAL Barwinek"' in out and "added 1 activities" in out
    assert main(["import-activities", str(path), "--programme", "PAL Barwinek"]) == 0
    assert "added 0 activities; 1 already present" in capsys.readouterr().out
    assert _activities(db) == 1


def test_missing_file(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-activities", "nope.csv", "--programme", "PAL"]) == 1
    assert "cannot read nope.csv" in capsys.readouterr().err


def test_help_explains_columns(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import-activities", "--help"])
    out = capsys.readouterr().out
    assert "registration_deadline" in out and "nothing is imported" in out


HOSTILE = (
    "Warsztaty\u202e;warsztaty;2026-12-01 17:00;2026-12-01 19:00;Klub;10\n"
    "Piknik\x07;festyn;2026-12-02 17:00;2026-12-02 19:00;Park;10\n"
    "Kino;film;2026-12-03 17:00;2026-12-03 19:00;Sala\x00 1;10\n"
)


def _import_hostile(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PALBOT_DATABASE_URL", url)
    path = tmp_path / "zajecia.csv"
    path.write_text(HEADER + GOOD + HOSTILE, encoding="utf-8")
    assert main(["import-activities", str(path), "--programme", "PAL Barwinek"]) == 1
    err = capsys.readouterr().err
    assert "line 3: title contains a control or invisible formatting character (U+202E)" in err
    assert "line 4: title contains a control or invisible formatting character (U+0007)" in err
    assert "line 5: venue contains a control or invisible formatting character (U+0000)" in err
    assert "Traceback" not in err
    assert _activities(url) == 0


def test_control_characters_are_reported_by_line_on_sqlite(
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _import_hostile(db, monkeypatch, tmp_path, capsys)


def test_control_characters_are_reported_by_line_on_postgres(
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _import_hostile(postgres_url, monkeypatch, tmp_path, capsys)


def test_a_programme_name_with_a_bidi_override_is_refused(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "zajecia.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    assert main(["import-activities", str(path), "--programme", "PAL \u202eBarwinek"]) == 2
    assert "invisible formatting characters" in capsys.readouterr().err
