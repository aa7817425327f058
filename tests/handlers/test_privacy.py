"""/privacy, /mydata and /forgetme through the real Application, offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.context import PalApplication
from bot.settings import Settings, load_settings
from handlers.privacy.rights import schedule_retention
from schedules.clock import FrozenClock
from storage.activities.seats import cancel
from storage.db import transaction
from storage.models import Person, PlaceOffer, Programme, Registration
from storage.people.without_telegram import create_proxy_participant
from tests.conftest import TEST_TOKEN
from tests.support.animator import seat_animator, seat_resident
from tests.support.chat import ChatUser
from tests.support.privacy import Resident, person_row, resident_with_history

WIESLAWA = 987_654_321_987


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings naming the controller and the data protection officer."""
    return load_settings(
        _env_file=None,
        token=TEST_TOKEN,
        database_url=db_url,
        controller_name="MOPS w Kielcach, ul. Studzienna 2",
        dpo_contact="iod@mops.kielce.pl",
    )


@pytest.fixture
def wieslawa(engine: Engine, clock: FrozenClock) -> Resident:
    """A resident with a place, a reserve position, history, a survey and a reminder."""
    with transaction(engine) as session:
        return resident_with_history(session, now=clock.now(), telegram_id=WIESLAWA)


async def test_notice_in_the_residents_language_for_anyone(
    chat_user: Callable[..., ChatUser],
) -> None:
    olena = chat_user(601, language_code="uk")
    await olena.send("/privacy")
    sent = olena.messages
    assert len(sent) == 6
    texts = [m.text for m in sent]
    assert texts[0].startswith("🔒 Інформація про персональні дані")
    assert "MOPS w Kielcach, ul. Studzienna 2" in texts[0]
    assert "iod@mops.kielce.pl" in texts[0] and "iod@mops.kielce.pl" in texts[5]
    assert "6(1)(e)" in texts[1]
    assert "PESEL" in texts[2]
    assert "Оцінювачі бачать лише код" in texts[3]
    assert "UODO" in texts[5] and "/mydata" in texts[5] and "/forgetme" in texts[5]
    assert all(len(text) < 1000 for text in texts), "short messages, one topic each"
    assert [label for label, _ in sent[-1].buttons()] == ["📄 Мої дані", "🗑 Видалити мої дані"]


async def test_notice_states_the_programmes_retention(
    chat_user: Callable[..., ChatUser], engine: Engine, wieslawa: Resident
) -> None:

    with transaction(engine) as session:
        programme = session.get(Programme, wieslawa.programme_id)
        assert programme is not None
        programme.retention_months = 24
        programme.ends_at = datetime(2027, 6, 30, 22, 0, tzinfo=UTC)
        session.add(programme)
    krystyna = chat_user(WIESLAWA)
    await krystyna.send("/privacy")
    retention = krystyna.messages[4].text
    assert "Przez 24 miesiące po zakończeniu programu (1 lipca 2027)." in retention
    assert "tylko pod kodem" in retention


async def test_my_data_sends_a_readable_file_and_json(
    chat_user: Callable[..., ChatUser], wieslawa: Resident
) -> None:
    me = chat_user(WIESLAWA)
    await me.send("/mydata")
    sent = me.messages
    assert [m.file_name for m in sent] == ["moje-dane.html", "moje-dane.json"]
    html = (sent[0].document or b"").decode()
    assert wieslawa.name in html
    assert "Spacer nordic walking" in html and "na liście rezerwowej (miejsce 1)" in html
    assert "Kawiarenka sąsiedzka" in html  # attendance
    assert "4 — Raczej się zgadzam" in html and "Co chcesz nam powiedzieć?" in html
    assert "Przypomnienie przed wydarzeniem" in html
    assert "<script" not in html
    data = json.loads(sent[1].document or b"")
    assert data["telegram_id"] == WIESLAWA
    assert data["responses"][0]["participant_code"] == wieslawa.code
    assert data["pending_messages"][0]["kind"] == "reminder"


async def test_my_data_lists_places_offered_from_the_reserve_list(
    chat_user: Callable[..., ChatUser], wieslawa: Resident, engine: Engine, clock: FrozenClock
) -> None:
    # Bożena gives back her place on the trip: it is offered to Wiesława, who waits.
    with transaction(engine) as session:
        bozena = session.exec(select(Person).where(Person.telegram_id == WIESLAWA + 2)).one()
        assert bozena.id is not None
        cancel(session, person_id=bozena.id, activity_id=wieslawa.full_activity_id, now=clock.now())
    me = chat_user(WIESLAWA)
    await me.send("/mydata")
    html = (me.messages[0].document or b"").decode()
    assert "Miejsca zaproponowane Ci z listy rezerwowej" in html
    assert "Wycieczka do skansenu" in html and "czeka na Twoją odpowiedź" in html
    assert "Propozycja zwolnionego miejsca" in html  # the offer message, still to be sent
    data = json.loads(me.messages[1].document or b"")
    [offer] = data["offers"]
    assert offer["activity_title"] == "Wycieczka do skansenu" and offer["state"] == "offered"


async def test_my_data_of_a_stranger(chat_user: Callable[..., ChatUser]) -> None:
    stranger = chat_user(602, language_code="en")
    await stranger.send("/mydata")
    assert stranger.last_answer() == "We store nothing about you."


async def test_forget_me_asks_then_erases_and_promotes(
    chat_user: Callable[..., ChatUser], engine: Engine, wieslawa: Resident
) -> None:
    me = chat_user(WIESLAWA)
    [question] = await me.send("/forgetme")
    assert "Zwolnisz 1 miejsce w nadchodzącym wydarzeniu" in question.text
    assert "Opuścisz 1 listę rezerwową." in question.text
    assert "zostaną tylko pod kodem" in question.text
    await me.press("Tak, usuń moje dane")
    done = me.last.text
    assert done.startswith("✅ Twoje dane zostały usunięte.")
    assert "1 miejsce zaproponowano następnej osobie z listy rezerwowej." in done
    assert "zachowane tylko pod kodem" in done
    assert me.last.reply_markup == {"remove_keyboard": True}
    assert question.buttons() == []  # the question lost its buttons
    with transaction(engine) as session:
        person = person_row(session, wieslawa.person_id)
        assert person.erased_at is not None and person.display_name is None
        marianna = session.exec(
            select(Registration).where(Registration.person_id == wieslawa.waiting_person_id)
        ).one()
        # Marianna is offered the freed place (storage.activities.offers) and holds it
        # until she answers.
        assert marianna.status == "reserve"
        assert (
            session.exec(
                select(PlaceOffer.state).where(PlaceOffer.registration_id == marianna.id)
            ).one()
            == "offered"
        )
    await me.send("/mydata")
    assert me.last_answer() == "Nie przechowujemy żadnych Twoich danych."


async def test_forget_me_can_be_declined(
    chat_user: Callable[..., ChatUser], engine: Engine, wieslawa: Resident
) -> None:
    me = chat_user(WIESLAWA, language_code="en")
    await me.send("/forgetme")
    await me.press("Nie, zostaw")
    assert me.last_answer() == "Nic nie zostało usunięte."
    with transaction(engine) as session:
        assert person_row(session, wieslawa.person_id).display_name == wieslawa.name


async def test_an_old_confirmation_does_nothing(
    chat_user: Callable[..., ChatUser], engine: Engine, wieslawa: Resident, clock: FrozenClock
) -> None:
    me = chat_user(WIESLAWA)
    await me.send("/forgetme")
    clock.advance(timedelta(minutes=20))
    await me.press("Tak, usuń moje dane")
    assert me.alerts()[-1] == "To pytanie jest już nieaktualne. Wyślij /forgetme ponownie."
    with transaction(engine) as session:
        assert person_row(session, wieslawa.person_id).erased_at is None


@pytest.mark.parametrize("data", ["pv:fy:", "pv:fy:abc", "pv:fy:99999999999999", "pv:zz"])
async def test_forged_privacy_buttons_change_nothing(
    chat_user: Callable[..., ChatUser], engine: Engine, wieslawa: Resident, data: str
) -> None:
    me = chat_user(WIESLAWA)
    await me.press_data(data)
    assert me.alerts() == ["Ten przycisk jest już nieaktywny. Otwórz menu ponownie."]
    with transaction(engine) as session:
        assert person_row(session, wieslawa.person_id).erased_at is None


async def test_someone_elses_confirmation_erases_nobody(
    chat_user: Callable[..., ChatUser], engine: Engine, wieslawa: Resident, clock: FrozenClock
) -> None:
    stranger = chat_user(603)
    await stranger.send("/privacy")
    await stranger.press_data(f"pv:fy:{int(clock.now().timestamp())}")
    assert stranger.alerts() == ["Nie przechowujemy żadnych Twoich danych."]
    with transaction(engine) as session:
        people = session.exec(select(Person).where(Person.erased_at.is_not(None))).all()  # type: ignore[union-attr]
        assert people == []


async def test_animator_deletes_a_paper_participants_data(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:

    animator_id, programme_id = seat_animator(engine, telegram_id=910, name="Ewa")
    _, other_programme = seat_animator(engine, telegram_id=911, name="Piotr")
    seat_resident(engine, telegram_id=912, programme_id=programme_id)
    with transaction(engine) as session:
        henryka = create_proxy_participant(
            session,
            display_name="Henryka Lipowa",
            created_by_id=animator_id,
            programme_id=programme_id,
            phone="600 100 200",
        )
        assert henryka.id is not None
        henryka_id = henryka.id
    ewa, piotr, resident = chat_user(910), chat_user(911), chat_user(912)
    # Neither an animator of another programme nor a resident gets anywhere.
    await piotr.send("/animator")
    await piotr.press_data(f"pv:ax:{henryka_id}")
    assert piotr.alerts()[-1] == "Tej osoby nie ma na Twojej liście."
    await resident.send("/help")
    await resident.press_data(f"pv:ax:{henryka_id}")
    assert resident.last_answer() == "To jest tylko dla zespołu programu."
    # Her animator opens the card, asks, and confirms.
    await ewa.send("/animator")
    await ewa.press_data(f"anx:p:{henryka_id}")
    await ewa.press("Usuń dane tej osoby")
    assert ewa.last.text.startswith("🗑 Usunąć dane osoby: Henryka Lipowa?")
    await ewa.press("Tak, usuń")
    assert ewa.last.text.startswith("✅ Dane tej osoby zostały usunięte.")
    with transaction(engine) as session:
        gone = person_row(session, henryka_id)
        assert (gone.display_name, gone.phone) == (None, None) and gone.erased_at is not None
    await ewa.press_data(f"pv:ax:{henryka_id}")
    assert ewa.alerts()[-1] == "Tej osoby nie ma na Twojej liście."
    assert other_programme != programme_id


async def test_retention_jobs_are_rebuilt_on_start(app: PalApplication) -> None:

    await schedule_retention(app)
    jobs = app.job_queue
    assert jobs is not None
    [daily] = jobs.get_jobs_by_name("retention")
    [soon] = jobs.get_jobs_by_name("retention-after-start")
    # Every night at 03:30 Warsaw time, and once two minutes after the start.
    assert "hour='3', minute='30'" in str(daily.trigger)
    assert "Europe/Warsaw" in repr(daily.trigger)
    assert str(soon.trigger).startswith("date[")
