"""A fresh install run from the chat, through `palbot run` and the local Bot API server:
the first-admin link from the command line, an admin who invites an animator, the
animator who sends an XLSX with a bad row, then a fixed one, and imports it; reused and
expired invitations and a resident's attempts are refused; an admin appoints a
programme coordinator, who invites the programme's animator."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Activity, AuditEntry, Invitation, RoleGrant
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.support.workbooks import xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
ANNA, EWA, JAN, KRYSTYNA, CELINA = 6101, 6102, 6103, 6104, 6105
LINK = re.compile(r"https://t\.me/pal_test_bot\?start=(inv_[A-Za-z0-9_-]+)")


def _env(api: FakeBotApi, db_file: str) -> dict[str, str]:
    # DEBUG, so the end of the test can show no token, name or title reaches the log.
    return bot_env(
        api, PALBOT_DATABASE_URL=db_file, PALBOT_LOG_LEVEL="DEBUG", PALBOT_QUIET_HOURS="off"
    )


async def _first_admin_link(api: FakeBotApi, db_file: str, cwd: Path) -> str:
    # Not subprocess.run: the local Bot API answers getMe from this very event loop.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "first-admin-link",
        cwd=cwd,
        env={**os.environ, **_env(api, db_file)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    assert "valid until" in err.decode()
    found = LINK.fullmatch(out.decode().strip())
    assert found, out.decode()
    return found.group(1)


@pytest.fixture
async def bot(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    async with BotProcess(_env(api, db_file), tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        yield proc
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text(), proc.log_tail()


def _xlsx(rows: list[list[object]]) -> bytes:
    return xlsx(["title", "category", "starts_at", "ends_at", "venue", "places"], rows)


async def _onboard(user: TgUser, name: str) -> None:
    # With one open programme (or none) onboarding does not ask which one.
    await user.ask("/start", "Wybierz język")
    await user.tap("Polski", "Informacja o danych osobowych")
    await user.tap("Dalej", "Jak mają Cię widzieć animatorzy")
    await user.ask(name, f"Dziękujemy, {name}!")


async def test_a_fresh_install_is_run_from_the_chat(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path, bot: BotProcess
) -> None:
    first = await _first_admin_link(api, db_file, tmp_path)
    anna, ewa = api.user(ANNA), api.user(EWA)
    jan, krystyna = api.user(JAN), api.user(KRYSTYNA)

    # Anna opens the link from the shell and becomes the first administrator.
    offer = await anna.ask(f"/start {first}", "Zaproszenie do zespołu programu")
    assert "Rola: administrator/administratorka tego czatu (wszystkie programy)." in offer.body
    await anna.tap("Przyjmuję", "Jeszcze jeden krok")
    await _onboard(anna, "Anna")
    await anna.ask("/admin", "Nie ma jeszcze żadnego programu")
    await anna.tap("Nowy program", "Wpisz nazwę nowego programu")
    await anna.ask("PAL Barwinek 2027", "Zespół programu „PAL Barwinek 2027”")
    invitation = await anna.tap("Zaproś animatora", "Wyślij ten link")
    found = LINK.search(invitation.body)
    assert found
    for_ewa = found.group(1)

    # Ewa accepts; the same link is refused to Jan afterwards.
    offer = await ewa.ask(f"/start {for_ewa}", "Zaproszenie do zespołu programu")
    assert "Rola: animator/animatorka w programie „PAL Barwinek 2027”." in offer.body
    assert "Zaprasza: Anna." in offer.body
    await ewa.tap("Przyjmuję", "Jeszcze jeden krok")
    await _onboard(ewa, "Ewa")
    await jan.ask(f"/start {for_ewa}", "To zaproszenie zostało już wykorzystane.")
    await jan.ask(f"/start {first}", "To zaproszenie zostało już wykorzystane.")

    # An invitation left too long expires.
    await anna.ask("/admin", "Administracja. Wybierz program")
    await anna.tap("PAL Barwinek 2027", "Zespół programu")
    late = LINK.search(
        (await anna.tap("Zaproś osobę prowadzącą ewaluację", "Wyślij ten link")).body
    )
    assert late
    with Session(store) as session:
        waiting = session.exec(select(Invitation).where(col(Invitation.used_at).is_(None))).one()
        waiting.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(waiting)
        session.commit()
    await jan.ask(f"/start {late.group(1)}", "To zaproszenie straciło ważność.")

    # Ewa sends a workbook with one bad row, then the fixed one, and imports it.
    day = (datetime.now(UTC) + timedelta(days=30)).replace(
        hour=15, minute=0, second=0, microsecond=0, tzinfo=None
    )
    good = [
        ["Klub seniora", "Spotkania", day, day + timedelta(hours=2), "Świetlica", 15],
        [
            "Komputer bez tajemnic",
            "Warsztaty",
            day + timedelta(days=2),
            day + timedelta(days=2, hours=2),
            "Biblioteka",
            8,
        ],
    ]
    ewa.send_document(_xlsx([*good, ["Spacer", "Ruch", "jutro", day, "Park", 20]]), "zajecia.xlsx")
    errors = await ewa.expect("1 wiersz do poprawienia")
    assert "Wiersz 4: starts_at: „jutro” to nie data i godzina" in errors.body
    ewa.send_document(_xlsx(good), "zajecia.xlsx")
    preview = await ewa.expect("2 wydarzenia, wszystkie wiersze są poprawne")
    assert "Program: PAL Barwinek 2027" in preview.body and "Klub seniora" in preview.body
    await ewa.tap("Importuj", "Zaimportowano do programu „PAL Barwinek 2027”: 2 nowe wydarzenia.")

    # A resident gets polite refusals and nothing changes.
    await _onboard(krystyna, "Krystyna")
    await krystyna.ask("/admin", "To jest tylko dla administratorów i koordynatorów programów.")
    krystyna.send_document(_xlsx(good), "zajecia.xlsx")
    await krystyna.expect("To jest tylko dla zespołu programu.")

    with Session(store) as session:
        titles = sorted(a.title for a in session.exec(select(Activity)))
        grants = sorted((g.telegram_id, g.role) for g in session.exec(select(RoleGrant)))
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert titles == ["Klub seniora", "Komputer bez tajemnic"]
    log = bot.log_text()
    for secret in (
        first,
        for_ewa,
        late.group(1),
        "Klub seniora",
        "PAL Barwinek",
        "Krystyna",
        "zajecia.xlsx",
    ):
        assert secret.removeprefix("inv_") not in log, secret
    assert grants == [(ANNA, "admin"), (EWA, "animator")]
    assert actions == [
        "invitation.created",
        "invitation.accepted",
        "programme.created",
        "invitation.created",
        "invitation.accepted",
        "invitation.created",
        "activities.imported",
    ]


async def test_an_administrator_appoints_a_coordinator_who_builds_her_team(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path, bot: BotProcess
) -> None:
    """Anna invites Celina as coordinator of a programme; Celina finds it in her menu and
    invites Ewa as its animator; Celina cannot appoint another coordinator."""
    first = await _first_admin_link(api, db_file, tmp_path)
    anna, celina, ewa = api.user(ANNA), api.user(CELINA), api.user(EWA)
    await anna.ask(f"/start {first}", "Zaproszenie do zespołu programu")
    await anna.tap("Przyjmuję", "Jeszcze jeden krok")
    await _onboard(anna, "Anna")
    await anna.ask("/admin", "Nie ma jeszcze żadnego programu")
    await anna.tap("Nowy program", "Wpisz nazwę nowego programu")
    await anna.ask("PAL Alfa 2027", "Zespół programu „PAL Alfa 2027”")
    invitation = await anna.tap("Zaproś koordynatora", "Wyślij ten link")
    found = LINK.search(invitation.body)
    assert found

    offer = await celina.ask(f"/start {found.group(1)}", "Zaproszenie do zespołu programu")
    assert "koordynator/koordynatorka w programie „PAL Alfa 2027”" in offer.body
    await celina.tap("Przyjmuję", "Jeszcze jeden krok")
    await _onboard(celina, "Celina")
    await celina.ask("/admin", "Twoje programy.")
    team = await celina.tap("PAL Alfa 2027", "Zespół programu „PAL Alfa 2027”")
    assert "Celina — koordynator/koordynatorka" in team.body
    invitation = await celina.tap("Zaproś animatora", "Wyślij ten link")
    found = LINK.search(invitation.body)
    assert found
    await ewa.ask(f"/start {found.group(1)}", "Zaproszenie do zespołu programu")
    await ewa.tap("Przyjmuję", "Jeszcze jeden krok")

    with Session(store) as session:
        grants = sorted((g.telegram_id, g.role) for g in session.exec(select(RoleGrant)))
        inviters = sorted(i.role for i in session.exec(select(Invitation)))
    assert grants == [(ANNA, "admin"), (EWA, "animator"), (CELINA, "coordinator")]
    assert inviters == ["admin", "animator", "coordinator"]
    assert "Celina" not in bot.log_text() and "PAL Alfa" not in bot.log_text()
