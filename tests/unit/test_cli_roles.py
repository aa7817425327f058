"""`palbot grant` / `palbot revoke`: animators, evaluators and coordinators are granted
per programme; only admin covers every programme."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cli import main
from storage.db import transaction
from storage.models import RoleGrant
from storage.people.staff_access import StaffAction, may_act
from tests.support.signup import make_programme


@pytest.fixture
def programmes(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("PALBOT_DATABASE_URL", db_url)
    with transaction(engine) as session:
        make_programme(session, name="PAL Alfa")
        make_programme(session, name="PAL Beta")
    return engine


def _grants(engine: Engine) -> list[tuple[str, int | None]]:
    with Session(engine) as session:
        rows = session.exec(
            select(RoleGrant).where(RoleGrant.telegram_id == 4321).order_by(col(RoleGrant.id))
        ).all()
        return [(g.role, g.programme_id) for g in rows]


def test_an_animator_needs_a_programme(
    programmes: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", "animator", "4321"]) == 2
    assert "--programme NAME" in capsys.readouterr().err
    assert _grants(programmes) == []
    assert main(["grant", "animator", "4321", "--programme", "PAL Alfa"]) == 0
    assert main(["grant", "animator", "4321", "--programme", "PAL Beta"]) == 0
    assert "animator granted to 4321 for PAL Beta" in capsys.readouterr().out
    assert [p for _, p in _grants(programmes)] == [1, 2]
    assert main(["revoke", "animator", "4321", "--programme", "PAL Alfa"]) == 0
    assert _grants(programmes) == [("animator", 2)]
    assert main(["revoke", "animator", "4321"]) == 0
    assert _grants(programmes) == []
    assert main(["revoke", "animator", "4321", "--programme", "PAL Nieznany"]) == 2


def test_admin_is_for_every_programme(
    programmes: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", "admin", "4321", "--programme", "PAL Alfa"]) == 2
    assert "admin is for every programme" in capsys.readouterr().err
    assert main(["grant", "admin", "4321"]) == 0
    assert _grants(programmes) == [("admin", None)]


def test_a_coordinator_needs_a_programme(
    programmes: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", "coordinator", "4321"]) == 2
    assert "--programme NAME" in capsys.readouterr().err
    assert main(["grant", "coordinator", "4321", "--programme", "PAL Alfa"]) == 0
    assert "coordinator granted to 4321 for PAL Alfa" in capsys.readouterr().out
    with Session(programmes) as session:
        assert may_act(
            session,
            telegram_id=4321,
            admin_ids=(),
            action=StaffAction.RUN_PROGRAMME,
            programme_id=1,
        )
        assert not may_act(
            session,
            telegram_id=4321,
            admin_ids=(),
            action=StaffAction.RUN_PROGRAMME,
            programme_id=2,
        )
    assert main(["revoke", "coordinator", "4321", "--programme", "PAL Alfa"]) == 0
    assert _grants(programmes) == []
