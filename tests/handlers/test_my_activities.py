"""/my: places and reserve positions, cancelling, and the promotion of the next person."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schedules.clock import FrozenClock
from storage.models import PendingSend, Registration, RegistrationStatus, SendKind
from tests.support.chat import ChatUser
from tests.support.signup import onboard, seed_programme


async def _two_people_one_place(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> tuple[ChatUser, ChatUser, int]:
    _, (activity,) = seed_programme(engine, clock.now(), places=1)
    olena, jan = chat_user(801), chat_user(802)
    await onboard(olena, "Olena")
    await onboard(jan, "Jan")
    await olena.press_data(f"su:{activity}")
    await jan.press_data(f"su:{activity}")
    return olena, jan, activity


async def test_my_lists_status_and_position(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    olena, jan, _ = await _two_people_one_place(chat_user, engine, clock)
    await olena.send("/my")
    assert "Twoje zapisy:" in olena.last.text
    assert "✅ Masz miejsce" in olena.last.text
    assert "środa, 25 listopada, 10:00" in olena.last.text
    await jan.send("🎟 Moje zapisy")
    assert "⏳ Lista rezerwowa, miejsce 1" in jan.last.text
    assert jan.last.buttons()[0][0] == "Rezygnuję z miejsca: Warsztaty rękodzieła"


async def test_cancel_asks_first_then_offers_the_place_to_the_first_in_line(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    olena, jan, activity = await _two_people_one_place(chat_user, engine, clock)
    await olena.send("/my")
    await olena.press("Rezygnuję z miejsca")
    assert "Czy na pewno rezygnujesz z miejsca na: Warsztaty rękodzieła" in olena.last.text
    await olena.press("Nie, zostaję")
    assert "✅ Masz miejsce" in olena.last.text
    await olena.press("Rezygnuję z miejsca")
    await olena.press("Tak, rezygnuję")
    assert olena.last.text == "Gotowe. Nie masz już miejsca na: Warsztaty rękodzieła"
    with Session(engine) as session:
        statuses = {r.person_id: r.status for r in session.exec(select(Registration))}
        assert sorted(statuses.values()) == [
            RegistrationStatus.CANCELLED,
            RegistrationStatus.RESERVE,
        ]
        (notice,) = session.exec(
            select(PendingSend).where(PendingSend.kind == SendKind.PLACE_OFFER.value)
        ).all()
        assert notice.activity_id == activity
    # Jan takes the offered place (the offer's own tests are in test_offer_buttons.py).
    await jan.press_data(f"of:t:{notice.payload['offer_id']}")
    await jan.send("/my")
    assert "✅ Masz miejsce" in jan.last.text
    # Pressing "Tak, rezygnuję" again on the old message changes nothing.
    await olena.press_data(f"cxy:{activity}")
    assert olena.alerts()[-1] == "Nie masz zapisu na to wydarzenie."
    with Session(engine) as session:
        assert (
            len(
                session.exec(
                    select(PendingSend).where(PendingSend.kind == SendKind.PLACE_OFFER.value)
                ).all()
            )
            == 1
        )


async def test_leaving_the_reserve_list(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, jan, activity = await _two_people_one_place(chat_user, engine, clock)
    await jan.press_data(f"cx:{activity}")
    await jan.press("Tak, rezygnuję")
    assert jan.last.text == "Gotowe. Nie jesteś już na liście rezerwowej na: Warsztaty rękodzieła"
    await jan.send("/my")
    assert "Nie masz zapisów na nadchodzące wydarzenia" in jan.last.text


async def test_nobody_can_cancel_someone_elses_place(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _olena, _, activity = await _two_people_one_place(chat_user, engine, clock)
    krystyna = chat_user(803)
    await onboard(krystyna, "Krystyna")
    # Krystyna replays Olena's cancel button: it only ever acts on the presser.
    await krystyna.press_data(f"cxy:{activity}")
    assert krystyna.alerts()[-1] == "Nie masz zapisu na to wydarzenie."
    await krystyna.press_data(f"cx:{activity}")
    assert krystyna.alerts()[-1] == "Nie masz zapisu na to wydarzenie."
    with Session(engine) as session:
        assert all(
            r.status != RegistrationStatus.CANCELLED for r in session.exec(select(Registration))
        )
