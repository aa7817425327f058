"""`palbot first-admin-link` prints a one-time administrator link; `import-activities`
reads XLSX with the chat's parser."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from bot.cli import main
from storage.db import make_engine
from storage.models import Activity, AuditEntry, Invitation
from storage.people.invitations import hash_token


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PALBOT_DATABASE_URL", url)
    return url


def test_first_admin_link(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["first-admin-link", "--bot-username", "@pal_gmina_bot", "--days", "2"]) == 0
    out, err = capsys.readouterr()
    found = re.fullmatch(r"https://t\.me/pal_gmina_bot\?start=inv_([A-Za-z0-9_-]{32})\n", out)
    assert found, out
    assert "valid until" in err
    engine = make_engine(db)
    with Session(engine) as session:
        invitation = session.exec(select(Invitation)).one()
        audit = session.exec(select(AuditEntry)).one()
    engine.dispose()
    assert invitation.token_hash == hash_token(found.group(1))
    assert (invitation.role, invitation.programme_id) == ("admin", None)
    assert (invitation.expires_at - invitation.created_at).days == 2
    assert (audit.action, audit.actor_id) == ("invitation.created", None)


def test_first_admin_link_needs_a_token_or_a_username(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["first-admin-link"]) == 2
    assert "PALBOT_TOKEN" in capsys.readouterr().err
    assert main(["first-admin-link", "--bot-username", "x", "--days", "400"]) == 2


def test_import_activities_reads_xlsx(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["title", "category", "starts_at", "ends_at", "venue", "places"])
    sheet.append(
        ["Klub", "Spotkania", datetime(2026, 12, 1, 17), datetime(2026, 12, 1, 19), "Świetlica", 12]
    )
    out = io.BytesIO()
    book.save(out)
    path = tmp_path / "zajecia.xlsx"
    path.write_bytes(out.getvalue())
    assert main(["import-activities", str(path), "--programme", "PAL Barwinek"]) == 0
    assert "added 1 activities" in capsys.readouterr().out
    (tmp_path / "bomb.xlsx").write_bytes(b"not a zip")
    assert main(["import-activities", str(tmp_path / "bomb.xlsx"), "--programme", "PAL"]) == 1
    assert "cannot be read" in capsys.readouterr().err
    engine = make_engine(db)
    with Session(engine) as session:
        assert [a.title for a in session.exec(select(Activity))] == ["Klub"]
    engine.dispose()
