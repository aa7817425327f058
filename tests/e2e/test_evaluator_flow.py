"""Evaluation through `palbot run` and the local Bot API server: an administrator assigns
Ewa to one programme from the command line, Ewa asks for the report in the chat and
receives the workbook and the charts; a resident is refused; `palbot report` runs next to
the live bot without disturbing it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from storage.db import make_engine, transaction
from storage.migrate import upgrade_to_latest
from storage.models import Person
from tests.e2e.botapi import BotProcess, FakeBotApi, bot_env
from tests.e2e.botapi.process import REPO_ROOT
from tests.support.evaluation import Story

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
EWA, KRYSTYNA = 5001, 5002


def _palbot(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_an_evaluator_receives_the_workbook_in_the_chat(
    api: FakeBotApi, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'palbot.sqlite3'}"
    engine = make_engine(db_url)
    upgrade_to_latest(engine)
    with transaction(engine) as session:
        Story(session)
    with transaction(engine) as session:
        secrets = [p.display_name for p in session.exec(select(Person)) if p.display_name]
    env = bot_env(api, PALBOT_DATABASE_URL=db_url, PALBOT_LOG_LEVEL="WARNING")
    granted = _palbot(
        env, tmp_path, "grant", "evaluator", str(EWA), "--programme", "PAL Osiedle Słoneczne"
    )
    assert granted.returncode == 0, granted.stderr
    async with BotProcess(env, cwd=tmp_path) as bot:
        await bot.wait_ready(api)
        ewa = api.user(EWA, first_name="Ewa", language_code="pl")
        await ewa.ask("/evaluator", "Panel ewaluacji")
        await ewa.tap("PAL Osiedle Słoneczne", "jaki okres")
        ewa.press("Wszystkie lata")
        workbook = await ewa.expect_document(".xlsx", timeout=30)
        assert workbook.document is not None
        assert workbook.document.file_name == "raport-PAL-Osiedle-Słoneczne-all.xlsx"
        chart = await ewa.expect_document("prepost.png", timeout=15)
        assert ewa.file_bytes(chart)[:4] == b"\x89PNG"
        await ewa.expect_document("participation_by_month.png", timeout=15)
        book = load_workbook(io.BytesIO(ewa.file_bytes(workbook)))
        assert book.sheetnames == [
            "Wskaźniki",
            "Przed i po",
            "Stwierdzenia",
            "Konsultacje",
            "Definicje",
        ]
        assert [c.value for c in book["Wskaźniki"][3]] == [
            "Rodzaj wydarzeń",
            "Wskaźnik",
            "2025",
            "2026",
            "Wszystkie lata",
        ]
        cells = " ".join(
            str(c.value)
            for ws in book
            for row in ws.iter_rows()
            for c in row
            if c.value is not None
        )
        assert "Pary dopasowane" in cells
        for name in secrets:
            assert name not in cells

        krystyna = api.user(KRYSTYNA, first_name="Krystyna", language_code="pl")
        await krystyna.ask("/evaluator", "To jest tylko dla zespołu programu.")

        # The command line reads the same live database, read-only, while the bot runs.
        out = tmp_path / "out" / "raport.xlsx"
        report = _palbot(
            env, tmp_path, "report", "--programme", "PAL Osiedle Słoneczne", "--out", str(out)
        )
        assert report.returncode == 0, report.stderr
        assert load_workbook(out).sheetnames[0] == "Wskaźniki"
        await ewa.ask("/evaluator", "Panel ewaluacji")
        assert await bot.terminate() == 0, bot.log_tail()
    engine.dispose()
