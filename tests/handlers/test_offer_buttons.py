"""Offers of a freed place through the real dispatcher and bot: Take, Pass, and taps that
come too late, twice, from someone else or forged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.context import PalApplication, Services
from bot.dispatch import dispatcher_of
from schedules.clock import FrozenClock
from schedules.dispatcher import Dispatcher
from schedules.offers import expire_due_offers
from storage.activities.seats import cancel
from storage.db import transaction
from storage.models import OfferState, PlaceOffer, RegistrationStatus, SendKind
from tests.support.chat import ChatUser
from tests.support.reminders import Scene, make_scene, registration, sends

OFFER_PL = (
    "Zwolniło się miejsce, a Ty jesteś pierwszą osobą na liście rezerwowej.\n\n"
    "📌 Warsztaty rękodzieła\n🗓 środa, 25 listopada, 10:00\n"
    "📍 Klub Sąsiedzki, ul. Słoneczna 5\n\n"
    "Miejsce czeka na Ciebie do: poniedziałek, 23 listopada, 22:00. Naciśnij „Biorę to "
    "miejsce”, aby je zająć. Jeśli do tego czasu nie odpowiesz, przejdzie na następną osobę, "
    "a Ty zostaniesz na liście rezerwowej."
)


def _services(app: PalApplication) -> Services:
    services: Services = app.bot_data["services"]
    return services


def _dispatcher(app: PalApplication) -> Dispatcher:
    return dispatcher_of(_services(app))


def _scene(engine: Engine, clock: FrozenClock, starts_in: timedelta) -> Scene:
    return make_scene(
        engine,
        starts_at=clock.now() + starts_in,
        places=1,
        people=[("Jan", 702, "pl"), ("Krystyna", 703, "pl"), ("Olena", 701, "uk")],
        now=clock.now(),
    )


def _jan_cancels(engine: Engine, clock: FrozenClock, scene: Scene) -> None:
    with transaction(engine) as session:
        cancel(
            session,
            person_id=scene.people["Jan"].person_id,
            activity_id=scene.activity_id,
            now=clock.now(),
        )


def _offers(engine: Engine) -> list[PlaceOffer]:
    with Session(engine) as session:
        return list(session.exec(select(PlaceOffer).order_by(col(PlaceOffer.id))))


async def test_the_offer_spells_out_its_deadline_and_take_gives_the_place(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = _scene(engine, clock, timedelta(days=2))
    krystyna = chat_user(703, "pl")
    _jan_cancels(engine, clock, scene)
    assert await _dispatcher(app).drain() == 1
    offer = krystyna.last
    assert offer.text == OFFER_PL
    assert [b[0] for b in offer.buttons()] == [
        "✅ Biorę to miejsce",
        "Rezygnuję – wypisz mnie z listy rezerwowej",
    ]
    await krystyna.press("Biorę to miejsce")
    assert krystyna.alerts()[-1] == "Miejsce jest Twoje!"
    assert offer.text.endswith(
        "\n\n✅ Miejsce jest Twoje. Do zobaczenia: środa, 25 listopada, 10:00!"
    )
    # The offer's buttons give way to the way out every confirmed place has.
    assert [b[0] for b in offer.buttons()] == ["Rezygnuję z miejsca"]
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.CONFIRMED
    )
    # A double tap (an old copy of the button) is answered kindly and changes nothing.
    [row] = _offers(engine)
    await krystyna.press_data(f"of:t:{row.id}")
    assert krystyna.alerts()[-1] == "To miejsce już jest Twoje."
    await krystyna.press_data(f"of:px:{row.id}")
    assert krystyna.alerts()[-1].startswith("To miejsce już jest Twoje. Aby z niego zrezygnować")
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.CONFIRMED
    )
    await krystyna.send("/my")
    assert "✅ Masz miejsce" in krystyna.last.text


async def test_pass_leaves_the_reserve_list_and_the_next_person_is_asked(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = _scene(engine, clock, timedelta(days=2))
    krystyna, olena = chat_user(703, "pl"), chat_user(701, "uk")
    _jan_cancels(engine, clock, scene)
    await _dispatcher(app).drain()
    offer = krystyna.last
    # Passing asks first; "No, go back" brings the offer back unchanged.
    await krystyna.press("Rezygnuję")
    assert krystyna.alerts()[-1].startswith("Jeśli zrezygnujesz, miejsce dostanie następna osoba")
    assert [b[0] for b in offer.buttons()] == ["Tak, rezygnuję i wypisuję się", "Nie, wróć"]
    await krystyna.press("Nie, wróć")
    assert [b[0] for b in offer.buttons()] == [
        "✅ Biorę to miejsce",
        "Rezygnuję – wypisz mnie z listy rezerwowej",
    ]
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.RESERVE
    )
    await krystyna.press("Rezygnuję")
    await krystyna.press("Tak, rezygnuję")
    assert offer.text.endswith(
        "\n\nGotowe: miejsce przechodzi na następną osobę, a Ciebie nie "
        "ma już na liście rezerwowej na to wydarzenie."
    )
    assert offer.buttons() == []
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.CANCELLED
    )
    assert await _dispatcher(app).drain() == 1
    assert olena.last.text.startswith("Звільнилося місце, і ви перші в резервному списку.")
    assert [b[0] for b in olena.last.buttons()] == [
        "✅ Беру це місце",
        "Відмовляюся – вилучіть мене з резервного списку",
    ]
    # Krystyna's old button now says she passed.
    first = _offers(engine)[0]
    await krystyna.press_data(f"of:t:{first.id}")
    assert krystyna.alerts()[-1] == (
        "Ta propozycja została odrzucona i nie ma Cię już na liście rezerwowej."
    )


async def test_someone_elses_unknown_or_forged_offers_change_nothing(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = _scene(engine, clock, timedelta(days=2))
    olena = chat_user(701, "uk")
    _jan_cancels(engine, clock, scene)
    [row] = _offers(engine)  # Krystyna's
    await olena.press_data(f"of:t:{row.id}")
    await olena.press_data(f"of:px:{row.id}")
    await olena.press_data("of:t:99999999")
    assert olena.alerts() == ["Ця пропозиція вже неактуальна. Відкрийте меню ще раз."] * 3
    await olena.press_data("of:t:1;DROP TABLE")  # not even an offer button: the catch-all
    assert olena.last_answer() != ""
    stranger = chat_user(799, "en")  # never onboarded
    await stranger.press_data(f"of:t:{row.id}")
    assert [o.state for o in _offers(engine)] == [OfferState.OFFERED]
    assert registration(engine, scene.people["Olena"].registration_id).status == (
        RegistrationStatus.RESERVE
    )


async def test_an_expired_offer_is_refused_kindly_and_moves_on(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = _scene(engine, clock, timedelta(days=2))
    krystyna, olena = chat_user(703, "pl"), chat_user(701, "uk")
    _jan_cancels(engine, clock, scene)
    await _dispatcher(app).drain()
    offer = krystyna.last
    clock.advance(timedelta(hours=12))
    assert await expire_due_offers(_services(app).db, now=clock.now()) == 1
    await _dispatcher(app).drain()
    # 22:00 in Warsaw: Olena's offer goes out (its deadline is running), while the news
    # that Krystyna's time ran out waits for the end of quiet hours.
    assert olena.last.text.startswith("Звільнилося місце, і ви перші в резервному списку.")
    assert krystyna.last is offer
    await krystyna.press("Biorę to miejsce", message=offer)
    assert krystyna.alerts()[-1].startswith("Przepraszamy, czas na zajęcie tego miejsca minął")
    assert offer.buttons() == []
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.RESERVE
    )
    clock.advance(timedelta(hours=10))  # 08:00 in Warsaw
    await _dispatcher(app).drain()
    assert krystyna.last.text.startswith(
        "Minął czas na zajęcie miejsca na „Warsztaty rękodzieła” (środa, 25 listopada, 10:00)"
    )
    assert "Nadal jesteś na liście rezerwowej." in krystyna.last.text


async def test_last_minute_first_tap_wins_and_the_others_hear_it_politely(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    scene = _scene(engine, clock, timedelta(minutes=90))
    krystyna, olena = chat_user(703, "pl"), chat_user(701, "uk")
    _jan_cancels(engine, clock, scene)
    assert await _dispatcher(app).drain() == 2
    assert "miejsce dostanie ten, kto pierwszy naciśnie „Biorę to miejsce”" in krystyna.last.text
    assert "місце отримає той, хто першим натисне «Беру це місце»" in olena.last.text
    await olena.press("Беру це місце")
    assert olena.alerts()[-1] == "Місце ваше!"
    await krystyna.press("Biorę to miejsce")
    assert krystyna.alerts()[-1] == (
        "Przepraszamy, ktoś był szybszy i miejsce jest już zajęte. "
        "Nadal jesteś na liście rezerwowej."
    )
    # A second tap from an old copy of the message: the place is already hers.
    olenas = next(o for o in _offers(engine) if o.person_id == scene.people["Olena"].person_id)
    await olena.press_data(f"of:t:{olenas.id}")
    assert olena.alerts()[-1] == "Це місце вже ваше."
    confirmed = [
        r
        for r in ("Krystyna", "Olena")
        if registration(engine, scene.people[r].registration_id).status
        == RegistrationStatus.CONFIRMED
    ]
    assert confirmed == ["Olena"]
    assert [s.person_id for s in sends(engine, SendKind.PLACE_OFFER)] == [
        scene.people["Krystyna"].person_id,
        scene.people["Olena"].person_id,
    ]


async def test_my_activities_shows_the_offer_and_takes_the_place_from_there(
    app: PalApplication, engine: Engine, clock: FrozenClock, chat_user: Callable[..., ChatUser]
) -> None:
    # Krystyna missed the offer message; /my must not say "reserve list, position 1"
    # as if nothing had happened, but what waits for her, with the button to take it.
    scene = _scene(engine, clock, timedelta(days=2))
    krystyna = chat_user(703, "pl")
    _jan_cancels(engine, clock, scene)
    await krystyna.send("/my")
    text = krystyna.last.text
    assert "🎁 Miejsce czeka na Ciebie do: poniedziałek, 23 listopada, 22:00" in text
    assert "pozycja" not in text
    await krystyna.press("✅ Biorę to miejsce: Warsztaty rękodzieła")
    assert krystyna.alerts()[-1] == "Miejsce jest Twoje!"
    assert registration(engine, scene.people["Krystyna"].registration_id).status == (
        RegistrationStatus.CONFIRMED
    )
    await krystyna.send("/my")
    assert "✅ Masz miejsce" in krystyna.last.text and "🎁" not in krystyna.last.text
    # Olena, second on the list, is still told her position, and has no button to take.
    olena = chat_user(701, "uk")
    await olena.send("/my")
    assert "⏳ Резервний список, місце 1" in olena.last.text
    assert not any("Беру" in label for label, *_ in olena.last.buttons())
