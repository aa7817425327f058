"""An animator enters the paper survey of a resident without Telegram, in their own chat."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import ParticipantCode, Person, Programme, Role, SurveyResponse
from storage.people.roles import grant, revoke
from storage.people.without_telegram import create_proxy_participant
from storage.surveys.questionnaire_files import questionnaire_cache
from tests.support.animator import grant_where_they_live
from tests.support.chat import ChatUser
from tests.support.signup import make_programme, onboard, seed_programme


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    questionnaire_cache.clear()


async def animator(
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    user_id: int,
    programme_id: int | None = None,
) -> ChatUser:
    anna = chat_user(user_id)
    await onboard(anna, "Anna")
    with transaction(engine) as session:
        if programme_id is None:
            grant_where_they_live(session, role=Role.ANIMATOR, telegram_id=user_id)
        else:
            grant(session, role=Role.ANIMATOR, telegram_id=user_id, programme_id=programme_id)
    return anna


async def test_animator_adds_a_person_and_enters_their_paper_survey(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    seed_programme(engine, clock.now())
    anna = await animator(chat_user, engine, 1201)
    await anna.send("/paper")
    assert "Nie ma jeszcze nikogo bez Telegramu" in anna.last.text
    await anna.press("Dodaj osobę bez Telegramu")
    await anna.send("https://spam.pl")
    assert "bez linków" in anna.last_answer()
    await anna.send("Pani Zofia")
    assert "Czy Pani Zofia ma już papierową „Informację o danych osobowych”?" in anna.last.text
    await anna.press("Tak, ma")
    assert "Dodano: Pani Zofia." in anna.last.text
    await anna.press("Ankieta początkowa")
    header = anna.last.text.splitlines()[0]
    assert header == "📝 Ankieta papierowa: Pani Zofia · Ankieta początkowa · 1/12"
    await anna.send("3")  # typed instead of pressing: a hint, nothing stored
    assert "Wybierz odpowiedź przyciskiem" in anna.last.text
    for _ in range(12):
        await anna.press("3 — ")
    await anna.press("Wyślij")
    assert anna.last.text == "✅ Zapisano. Ankieta początkowa: Pani Zofia (z wersji papierowej)."
    with read_only(engine) as session:
        response = session.exec(select(SurveyResponse)).one()
        code = session.get(ParticipantCode, response.participant_code_id)
        assert code is not None
        zofia = session.get(Person, code.person_id)
        anna_person = session.exec(select(Person).where(Person.telegram_id == 1201)).one()
    assert zofia is not None and zofia.is_proxy and zofia.paper_notice_signed
    assert response.channel == "proxy" and response.entered_by_id == anna_person.id
    assert response.submitted_at is not None
    await anna.press("Wprowadź kolejną ankietę papierową")
    assert any(label.startswith("Pani Zofia · ✅ —") for label, _ in anna.last.buttons())
    await anna.press("Pani Zofia")
    assert "Ankieta początkowa: wprowadzona (poniedziałek, 23 listopada)." in anna.last.text
    assert anna.last.buttons()[0][0] == "Ankieta końcowa"


async def test_paper_survey_can_be_paused_and_resumed(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    programme_id, _ = seed_programme(engine, clock.now())
    anna = await animator(chat_user, engine, 1202)
    with transaction(engine) as session:
        anna_id = session.exec(select(Person.id).where(Person.telegram_id == 1202)).one()
        assert anna_id is not None
        zofia = create_proxy_participant(
            session, display_name="Zofia", created_by_id=anna_id, programme_id=programme_id
        )
    await anna.send("/paper")
    await anna.press("Zofia")
    await anna.press("Ankieta końcowa")  # paper answers can be entered whenever they arrive
    await anna.press("2 — ")
    await anna.press("Dokończę później")
    assert "/paper" in anna.last.text
    await anna.press_data(f"pp:go:{zofia.id}:f")
    assert "· 2/15" in anna.last.text


async def test_paper_entry_is_for_the_team_and_their_programmes_only(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    programme_id, _ = seed_programme(engine, clock.now())
    # An animator of another programme only, and a resident without any role.
    piotr = await animator(chat_user, engine, 1203)
    jan = chat_user(1204)
    await onboard(jan, "Jan")
    with transaction(engine) as session:
        other_id = make_programme(session, name="PAL Inny").id
        revoke(session, role=Role.ANIMATOR, telegram_id=1203)
        grant(session, role=Role.ANIMATOR, telegram_id=1203, programme_id=other_id)
    with transaction(engine) as session:
        anna = Person(telegram_id=None, display_name="x")
        session.add(anna)
        session.flush()
        zofia = create_proxy_participant(
            session, display_name="Zofia", created_by_id=anna.id or 0, programme_id=programme_id
        )
    await jan.send("/paper")
    assert jan.last_answer() == "To jest tylko dla zespołu programu."
    await jan.press_data(f"pp:go:{zofia.id}:i")
    assert jan.last_answer() == "To jest tylko dla zespołu programu."
    await piotr.press_data(f"pp:who:{zofia.id}")
    await piotr.press_data(f"pp:go:{zofia.id}:i")
    await piotr.press_data(f"pp:new:{programme_id}")
    assert all("nieaktywny" in a for a in piotr.alerts()[-3:])
    with read_only(engine) as session:
        assert session.exec(select(SurveyResponse)).all() == []
        assert len(session.exec(select(Person).where(col(Person.telegram_id).is_(None))).all()) == 2
        assert session.get(Programme, other_id) is not None


async def test_a_resident_cannot_touch_a_paper_survey(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    programme_id, _ = seed_programme(engine, clock.now())
    anna = await animator(chat_user, engine, 1205)
    jan = chat_user(1206)
    await onboard(jan, "Jan")
    with transaction(engine) as session:
        anna_id = session.exec(select(Person.id).where(Person.telegram_id == 1205)).one()
        zofia = create_proxy_participant(
            session, display_name="Zofia", created_by_id=anna_id or 0, programme_id=programme_id
        )
    await anna.press_data(f"pp:go:{zofia.id}:i")
    with read_only(engine) as session:
        response = session.exec(select(SurveyResponse)).one()
    await jan.press_data(f"sv:a:{response.id}:0:5")
    await jan.press_data(f"sv:w:{response.id}")
    assert jan.alerts()[-1] == "Ten przycisk jest już nieaktywny. Otwórz menu ponownie."
    with read_only(engine) as session:
        assert session.exec(select(SurveyResponse)).one().position == 0
