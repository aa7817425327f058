"""`palbot offer-windows` shows and sets how a programme offers freed places."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli import main
from storage.activities.offers import windows_for
from storage.db import make_engine, transaction
from storage.migrate import upgrade_to_latest
from storage.models import Programme
from storage.programmes.defaults import OfferWindows
from tests.support.signup import make_programme


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PALBOT_DATABASE_URL", url)
    monkeypatch.setenv("PALBOT_OFFER_TIME", "8h")
    engine = make_engine(url)
    upgrade_to_latest(engine)
    with transaction(engine) as session:
        make_programme(session, name="PAL Barwinek", open_until=datetime(2026, 12, 31, tzinfo=UTC))
    engine.dispose()
    return url


def _programme(url: str) -> Programme:
    engine = make_engine(url)
    with Session(engine) as session:
        programme = session.exec(select(Programme)).one()
    engine.dispose()
    return programme


def test_shows_the_deployment_defaults(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["offer-windows", "--programme", "PAL Barwinek"]) == 0
    assert capsys.readouterr().out.strip() == (
        "PAL Barwinek: a freed place is offered for 8 h to the first in line; within 2 h "
        "of the start, the first tap on the reserve list wins"
    )


def test_sets_and_resets_the_programme_windows(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "offer-windows",
                "--programme",
                "PAL Barwinek",
                "--offer-time",
                "90m",
                "--first-come",
                "3h",
            ]
        )
        == 0
    )
    assert "offered for 90 min" in capsys.readouterr().out
    programme = _programme(db)
    assert (programme.offer_time, programme.offer_first_come) == ("90m", "3h")
    assert windows_for(programme, OfferWindows()).first_come == timedelta(hours=3)
    assert main(["offer-windows", "--programme", "PAL Barwinek", "--offer-time", "0"]) == 0
    assert "given at once" in capsys.readouterr().out
    assert (
        main(
            [
                "offer-windows",
                "--programme",
                "PAL Barwinek",
                "--offer-time",
                "default",
                "--first-come",
                "default",
            ]
        )
        == 0
    )
    programme = _programme(db)
    assert (programme.offer_time, programme.offer_first_come) == (None, None)


def test_bad_values_and_unknown_programmes_are_explained(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["offer-windows", "--programme", "PAL Barwinek", "--offer-time", "soon"]) == 2
    assert "--offer-time: 'soon' is not a duration" in capsys.readouterr().out
    assert main(["offer-windows", "--programme", "Nie ma"]) == 1
    assert "no programme named 'Nie ma'" in capsys.readouterr().out
    assert _programme(db).offer_time is None
