"""A weekly series through `palbot run` and the local Bot API server: a coordinator sends an
XLSX with a weekly series and a bad row, fixes it and imports it; a resident signs up for
every date in six actions and gets the first date's reminder; another takes one date; the
animator calls off a third date and only the people of that date are told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.activities.series import WeeklyRule, expand
from storage.db import transaction
from storage.models import (
    Activity,
    PendingSend,
    Person,
    Programme,
    Registration,
    Role,
    SendKind,
)
from storage.people.roles import grant
from tests.e2e.botapi import BotProcess, FakeBotApi, TgUser, bot_env
from tests.support.animator import seat_animator
from tests.support.signup import make_person
from tests.support.workbooks import xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
ANNA, EWA, KRYSTYNA, JAN = 6301, 6302, 6303, 6304
WARSAW = ZoneInfo("Europe/Warsaw")
HEADER = [
    "title",
    "category",
    "starts_at",
    "ends_at",
    "venue",
    "places",
    "repeat_until",
    "skip_dates",
]


@pytest.fixture
async def bot(
    api: FakeBotApi, db_file: str, store: Engine, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    env = bot_env(
        api,
        PALBOT_DATABASE_URL=db_file,
        PALBOT_REMINDER_OFFSETS="20s",
        PALBOT_QUIET_HOURS="off",
    )
    async with BotProcess(env, tmp_path, ["run"]) as proc:
        await proc.wait_ready(api, timeout=30)
        yield proc
        assert await proc.terminate() == 0, proc.log_tail()
    assert "Traceback" not in proc.log_text(), proc.log_tail()


def _xlsx(rows: list[list[object]]) -> bytes:
    return xlsx(HEADER, rows)


def _team(store: Engine) -> None:
    _, programme_id = seat_animator(
        store, telegram_id=ANNA, name="Anna", programme_name="PAL Zatorze", role=Role.COORDINATOR
    )
    with transaction(store) as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        make_person(session, telegram_id=EWA, name="Ewa", programme=programme)
        grant(session, role=Role.ANIMATOR, telegram_id=EWA, programme_id=programme_id)


def _short_day(moment: datetime) -> str:
    local = moment.astimezone(WARSAW)
    return f"{local.day}.{local.month:02d}"


async def _onboard(user: TgUser, name: str) -> None:
    await user.ask("/start", "Wybierz język")
    await user.tap("Polski", "Informacja o danych osobowych")
    await user.tap("Dalej", "Jak mają Cię widzieć animatorzy")
    await user.ask(name, "Zajęcia i spotkania: PAL Zatorze")


async def test_a_weekly_series_from_a_spreadsheet_to_per_date_places_and_notices(
    api: FakeBotApi, store: Engine, bot: BotProcess
) -> None:
    _team(store)
    anna, ewa = api.user(ANNA), api.user(EWA)
    krystyna, jan = api.user(KRYSTYNA), api.user(JAN)
    # The first date starts in a minute, so its reminder (20 s before) comes during the test.
    start = (datetime.now(WARSAW) + timedelta(seconds=60)).replace(microsecond=0, tzinfo=None)
    last = start.date() + timedelta(weeks=3)
    series = [
        "Klub seniora",
        "Spotkania",
        start,
        start + timedelta(hours=2),
        "Świetlica, ul. Lipowa 3",
        5,
        last,
        None,
    ]
    wrong_skip = (start.date() + timedelta(days=1)).isoformat()
    other = ["Spacer", "Ruch", start + timedelta(days=2), start + timedelta(days=2, hours=1)]
    other += ["Park", 20, None, None]
    bad = [*other[:6], last, wrong_skip]

    # Anna sends the workbook with a weekly row whose skipped date is not one of its dates.
    anna.send_document(_xlsx([series, bad]), "zajecia.xlsx")
    errors = await anna.expect("1 wiersz do poprawienia")
    assert f"skip_dates: {wrong_skip} nie jest jednym z terminów" in errors.body
    anna.send_document(_xlsx([series, other]), "zajecia.xlsx")
    expected = expand(
        WeeklyRule(start.date(), last, time(start.hour, start.minute, start.second), 120),
        zone=WARSAW,
    ).dates
    count = len(expected)  # four, or three if a public holiday falls on one of them
    preview = await anna.expect("2 wydarzenia, wszystkie wiersze są poprawne")
    assert f"co tydzień do {last.day}.{last.month:02d}.{last.year}: {count} termin" in preview.body
    await anna.tap("Importuj", "Zaimportowano do programu „PAL Zatorze”: 2 nowe wydarzenia.")

    # Krystyna: start, language, notice, name, the series, "all dates": six actions.
    await _onboard(krystyna, "Krystyna")
    await krystyna.tap("Klub seniora", "Co tydzień:")
    done = await krystyna.tap("Zapisz się na wszystkie terminy", "Masz miejsce na")
    assert f"✅ Masz miejsce na {count} z tych terminów." in done.body
    typed = [m.get("text") for m in api.user_messages(KRYSTYNA)]
    assert len(typed) + len(api.callback_presses(KRYSTYNA)) == 6
    assert [t for t in typed if t and not t.startswith("/")] == ["Krystyna"]

    # Jan takes only the second date.
    second, third = expected[1].starts_at, expected[2].starts_at
    await _onboard(jan, "Jan")
    await jan.tap("Klub seniora", "Co tydzień:")
    await jan.tap(f"{_short_day(second)},", "(jeden termin cotygodniowego wydarzenia)")
    await jan.tap("Zapisz się", "Masz miejsce na")

    with Session(store) as session:
        krystyna_id = session.exec(select(Person.id).where(Person.telegram_id == KRYSTYNA)).one()
        places = session.exec(
            select(Registration).where(Registration.person_id == krystyna_id)
        ).all()
        reminders = session.exec(
            select(PendingSend).where(
                PendingSend.kind == SendKind.REMINDER, PendingSend.person_id == krystyna_id
            )
        ).all()
    assert len(places) == count
    # A reminder per date, each due 20 s before its own date.
    assert {r.registration_id for r in reminders} == {r.id for r in places}

    # Ewa calls off the third date: Krystyna is told, Jan (second date only) is not.
    await ewa.ask("/animator", "Panel animatora")
    await ewa.tap("Moje wydarzenia", "Wybierz")
    await ewa.tap(f"Klub seniora · {_short_day(third)},", "Klub seniora")
    await ewa.tap("Odwołaj", "Powiadomimy 1 zapisaną osobę")
    await ewa.tap("Tak, odwołaj", "Odwołano. Powiadomimy 1 osobę.")
    await krystyna.expect("❌ Odwołane: Klub seniora", timeout=15)
    await jan.expect_nothing("Odwołane", within=3)
    with Session(store) as session:
        statuses = [
            a.status
            for a in session.exec(
                select(Activity)
                .where(col(Activity.series_id).is_not(None))
                .order_by(col(Activity.starts_at))
            )
        ]
    assert statuses[2] == "cancelled" and statuses.count("cancelled") == 1

    # The first date's reminder arrives on time.
    reminder = await krystyna.expect("🔔 Przypomnienie: Klub seniora", timeout=60)
    assert reminder is not None
    assert datetime.now(UTC) < expected[0].starts_at
