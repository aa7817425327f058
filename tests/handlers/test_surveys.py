"""Residents answer the initial and final survey in the chat: the whole form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from schedules.clock import FrozenClock
from storage.db import read_only, transaction
from storage.models import (
    PendingSend,
    Programme,
    SendKind,
    SurveyAnswer,
    SurveyResponse,
)
from storage.surveys.questionnaire_files import questionnaire_cache
from tests.support.chat import ChatUser
from tests.support.recording import RecordingRequest
from tests.support.signup import onboard, seed_programme
from tests.support.surveys import small_questionnaire, write_yaml

LANGUAGES = {"pl": "Polski", "uk": "Українська", "en": "English"}
TEXTS = {
    "pl": {
        "title": "Samoocena: Ty i Twoja okolica",
        "q1": "Radzę sobie z codziennymi sprawami.",
        "agree": "4 — Raczej się zgadzam",
        "voluntary": "Udział i ankiety są dobrowolne",
        "continue": "Dalej",
        "back": "Wstecz",
        "skip": "Pomiń",
        "pause": "Dokończę później",
        "submit": "Wyślij",
        "change": "Zmień odpowiedź",
        "thanks": "Dziękujemy!",
        "minutes": "około 3 minut",
        "count": "12 pytań",
    },
    "uk": {
        "title": "Самооцінка: ви і ваша місцевість",
        "q1": "Я даю собі раду з повсякденними справами.",
        "agree": "4 — Скоріше погоджуюся",
        "voluntary": "Участь і анкети добровільні",
        "continue": "Далі",
        "back": "Назад",
        "skip": "Пропустити",
        "pause": "Продовжу пізніше",
        "submit": "Надіслати",
        "change": "Змінити відповідь",
        "thanks": "Дякуємо!",
        "minutes": "близько 3 хвилин",
        "count": "12 питань",
    },
    "en": {
        "title": "Self-assessment: you and your neighbourhood",
        "q1": "I can handle everyday matters.",
        "agree": "4 — Agree",
        "voluntary": "Taking part and the surveys are voluntary",
        "continue": "Continue",
        "back": "Back",
        "skip": "Skip",
        "pause": "Pause",
        "submit": "Submit",
        "change": "Change an answer",
        "thanks": "Thank you!",
        "minutes": "about 3 minutes",
        "count": "12 questions",
    },
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    questionnaire_cache.clear()


def responses(engine: Engine) -> list[SurveyResponse]:
    with read_only(engine) as session:
        return list(session.exec(select(SurveyResponse).order_by(col(SurveyResponse.id))))


def answers(engine: Engine) -> dict[str, str | None]:
    with read_only(engine) as session:
        return {a.item_id: a.value for a in session.exec(select(SurveyAnswer))}


async def resident(
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    clock: FrozenClock,
    user_id: int,
    language: str = "pl",
    name: str = "Krystyna",
) -> ChatUser:
    with read_only(engine) as session:
        exists = session.exec(select(Programme)).first() is not None
    if not exists:
        seed_programme(engine, clock.now())
    user = chat_user(user_id, language_code=language)
    await onboard(user, name, LANGUAGES[language])
    return user


@pytest.mark.parametrize("language", ["pl", "uk", "en"])
async def test_default_questionnaire_answered_end_to_end(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock, language: str
) -> None:
    words = TEXTS[language]
    person = await resident(chat_user, engine, clock, 901, language)
    await person.send("/survey")
    intro = person.last
    for part in ("title", "voluntary", "minutes", "count"):
        assert words[part] in intro.text, part
    await person.press(words["continue"])
    form = person.last
    assert form.message_id == intro.message_id  # the intro became the first question
    assert form.text.splitlines()[0].endswith("· 1/12")
    assert words["q1"] in form.text
    labels = [label for label, _ in form.buttons()]
    assert labels[:5][3] == words["agree"]
    assert all(label[0] == str(n) for n, label in enumerate(labels[:5], start=1))
    assert any(words["skip"] in label for label in labels)
    assert any(words["pause"] in label for label in labels)
    assert not any(words["back"] in label for label in labels)  # nothing to go back to
    for n in range(2, 13):
        await person.press("4 — ")
        assert person.last.message_id == intro.message_id  # edited in place, every time
        if n <= 12:
            assert f"· {n}/12" in person.last.text.splitlines()[0]
    await person.press("4 — ")
    summary = person.last
    assert summary.message_id == intro.message_id
    assert words["q1"] in summary.text and words["agree"] in summary.text
    await person.press(words["submit"])
    assert words["thanks"] in person.last.text
    assert person.last.buttons() == []
    (response,) = responses(engine)
    assert response.submitted_at == clock.now() and response.channel == "chat"
    assert set(answers(engine).values()) == {"4"} and len(answers(engine)) == 12


async def test_back_and_skip(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    krystyna = await resident(chat_user, engine, clock, 902)
    await krystyna.send("/survey")
    await krystyna.press("Dalej")
    await krystyna.press("2 — ")
    await krystyna.press("Pomiń")
    assert "· 3/12" in krystyna.last.text
    await krystyna.press("Wstecz")
    assert "· 2/12" in krystyna.last.text
    assert "Twoja odpowiedź: pominięte" in krystyna.last.text
    await krystyna.press("Wstecz")
    assert "· 1/12" in krystyna.last.text
    assert "Twoja odpowiedź: 2 — Raczej się nie zgadzam" in krystyna.last.text
    assert "2 — Raczej się nie zgadzam ✓" in [b for b, _ in krystyna.last.buttons()]
    await krystyna.press("5 — ")
    assert "· 2/12" in krystyna.last.text
    assert answers(engine) == {"se_cope": "5", "se_learn": None}


async def test_pause_and_resume_at_the_same_question(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    jan = await resident(chat_user, engine, clock, 903, name="Jan")
    await jan.send("/survey")
    await jan.press("Dalej")
    for _ in range(3):
        await jan.press("3 — ")
    form = jan.last
    await jan.press("Dokończę później")
    assert "Zapisano" in form.text and "3 z 12" in form.text
    assert form.buttons() == []
    await jan.send("/survey")
    resumed = jan.last
    assert resumed.message_id != form.message_id
    assert "Witaj ponownie" in resumed.text and "· 4/12" in resumed.text
    await jan.press("1 — ")
    assert "· 5/12" in jan.last.text
    assert len(answers(engine)) == 4


async def test_menu_button_opens_the_survey(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    ola = await resident(chat_user, engine, clock, 904, name="Ola")
    await ola.send("📝 Ankieta")
    assert "Samoocena: Ty i Twoja okolica" in ola.last.text


async def test_change_an_answer_from_the_summary(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    jan = await resident(chat_user, engine, clock, 905, name="Jan")
    await jan.send("/survey")
    await jan.press("Dalej")
    for _ in range(12):
        await jan.press("3 — ")
    await jan.press("Zmień odpowiedź")
    assert "Którą odpowiedź chcesz zmienić?" in jan.last.text
    await jan.press("5. ")
    assert "· 5/12" in jan.last.text
    await jan.press("1 — ")
    assert "Sprawdź odpowiedzi:" in jan.last.text  # straight back to the summary
    assert answers(engine)["mo_go_out"] == "1"
    await jan.press("Zmień odpowiedź")
    await jan.press("2. ")
    await jan.press("Wstecz")  # leave without changing
    assert "Sprawdź odpowiedzi:" in jan.last.text
    await jan.press("Zmień odpowiedź")
    await jan.press("Wróć do podsumowania")
    assert "Sprawdź odpowiedzi:" in jan.last.text
    await jan.press("Wyślij")
    assert responses(engine)[0].submitted_at is not None
    assert answers(engine)["se_learn"] == "3"


async def test_stale_double_forged_buttons_and_double_submit_change_nothing(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    jan = await resident(chat_user, engine, clock, 906, name="Jan")
    olena = await resident(chat_user, engine, clock, 907, "uk", name="Olena")
    await jan.send("/survey")
    await jan.press("Dalej")
    first_question = [data for _, data in jan.last.buttons()]
    await jan.press("2 — ")
    # A second tap of the same button (or a press on an older copy of the question).
    await jan.press_data(first_question[4])
    assert "wcześniejszego pytania" in jan.last_answer()
    assert answers(engine) == {"se_cope": "2"}
    (response,) = responses(engine)
    # Olena forges Jan's buttons: refused, and nothing is revealed or stored.
    await olena.press_data(f"sv:a:{response.id}:1:5")
    await olena.press_data(f"sv:w:{response.id}")
    assert olena.alerts()[-1] == "Ця кнопка вже неактивна. Відкрийте меню знову."
    # Forged shapes: a choice that does not exist, a missing index, an index far away.
    for data in (
        f"sv:a:{response.id}:1:9",
        f"sv:k:{response.id}",
        f"sv:e:{response.id}:99",
        "sv:a:999999:0:1",
        "sv:go:999999:i",
        f"sv:a:{response.id}:1",
    ):
        await jan.press_data(data)
    assert answers(engine) == {"se_cope": "2"}
    assert responses(engine)[0].position == 1
    for _ in range(11):
        await jan.press("5 — ")
    submit = next(data for label, data in jan.last.buttons() if "Wyślij" in label)
    await jan.press_data(submit)
    await jan.press_data(submit)
    assert "już wysłane" in jan.last_answer()
    (response,) = responses(engine)
    assert response.submitted_at is not None
    await jan.send("/survey")
    assert "Ankieta początkowa: odpowiedzi wysłane (poniedziałek, 23 listopada)" in jan.last.text
    # Starting again from an old intro is refused with the date.
    await jan.press_data("sv:go:1:i")
    assert "już wysłane" in jan.alerts()[-1] or "zamknięta" in jan.alerts()[-1]
    assert len(responses(engine)) == 1


async def test_text_typed_instead_of_a_button_repeats_the_question(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    jan = await resident(chat_user, engine, clock, 908, name="Jan")
    await jan.send("/survey")
    await jan.press("Dalej")
    old = jan.last
    await jan.send("zgadzam się")
    repeated = jan.last
    assert repeated.message_id != old.message_id
    assert "· 1/12" in repeated.text and "Wybierz odpowiedź przyciskiem" in repeated.text
    assert old.buttons() == []  # only the newest copy is live
    await jan.press("4 — ")
    assert "· 2/12" in jan.last.text and jan.last.message_id == repeated.message_id
    assert answers(engine) == {"se_cope": "4"}
    await jan.send("x" * 5000)  # far too long, still only a hint
    assert "· 2/12" in jan.last.text and answers(engine) == {"se_cope": "4"}


async def test_text_item_with_length_limit(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    path = write_yaml(tmp_path / "small.yaml", small_questionnaire())
    seed_programme(engine, clock.now())
    with transaction(engine) as session:
        programme = session.exec(select(Programme)).one()
        programme.survey_path = str(path)
        programme.final_survey_opened_at = clock.now()
    olena = await resident(chat_user, engine, clock, 909, "uk", name="Olena")
    await olena.send("/survey")
    assert "Підсумкова анкета" in olena.last.text
    await olena.press("Далі")
    await olena.press("4 — ")
    await olena.press("2 — ")
    await olena.press("2 — Знайомі")
    assert "· 4/4" in olena.last.text and "не більше 20 символів" in olena.last.text
    await olena.send("Дуже дякую за все, було чудово!")  # 31 characters
    assert "Задовго: не більше 20 символів" in olena.last.text
    assert "q_comment" not in answers(engine)
    await olena.send("  Дякую 👍  ")
    assert "Перевірте відповіді:" in olena.last.text and "“Дякую 👍”" in olena.last.text
    await olena.send("ще щось")
    assert "Скористайтеся кнопками нижче" in olena.last.text
    await olena.press("Надіслати")
    assert answers(engine) == {
        "q_cope": "4",
        "q_alone": "2",
        "q_heard": "friend",
        "q_comment": "Дякую 👍",
    }


async def test_initial_survey_is_offered_after_the_first_sign_up_only(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock
) -> None:
    _, activity_ids = seed_programme(engine, clock.now(), activities=2)
    krystyna = chat_user(910)
    await onboard(krystyna, "Krystyna")
    await krystyna.press_data(f"su:{activity_ids[0]}")
    details, offer = krystyna.messages[-2:]
    assert "Jeszcze jedno" in offer.text and "Udział i ankiety są dobrowolne" in offer.text
    await krystyna.press_data(f"su:{activity_ids[1]}", message=details)
    assert krystyna.last.message_id == offer.message_id  # no second offer
    with read_only(engine) as session:
        (followup,) = session.exec(
            select(PendingSend).where(PendingSend.kind == SendKind.SURVEY_FOLLOWUP.value)
        ).all()
    assert followup.due_at == clock.now() + timedelta(days=3)
    await krystyna.press("Dalej", message=offer)
    assert "· 1/12" in krystyna.last.text


async def test_closed_or_missing_programme_and_broken_file_are_explained(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    jan = await resident(chat_user, engine, clock, 911, name="Jan")
    await jan.send("/survey")
    intro = jan.last
    with transaction(engine) as session:
        programme = session.exec(select(Programme)).one()
        programme.final_survey_opened_at = clock.now()
    await jan.press("Dalej", message=intro)  # the initial survey closed meanwhile
    assert "zamknięta" in jan.alerts()[-1]
    broken = tmp_path / "broken.yaml"
    broken.write_text("items: [", encoding="utf-8")
    with transaction(engine) as session:
        programme = session.exec(select(Programme)).one()
        programme.survey_path = str(broken)
    await jan.send("/survey")
    assert "Ankieta jest teraz niedostępna" in jan.last_answer()
    assert responses(engine) == []


async def test_a_file_broken_while_running_keeps_the_last_valid_version(
    chat_user: Callable[..., ChatUser], engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    path = write_yaml(tmp_path / "small.yaml", small_questionnaire())
    seed_programme(engine, clock.now())
    with transaction(engine) as session:
        session.exec(select(Programme)).one().survey_path = str(path)
    ola = await resident(chat_user, engine, clock, 912, name="Ola")
    await ola.send("/survey")
    assert "Mała ankieta" in ola.last.text
    path.write_text("id: small\nversion: 1\nitems: [", encoding="utf-8")  # a bad edit
    await ola.press("Dalej")
    assert "· 1/3" in ola.last.text  # still the last valid version
    (response,) = responses(engine)
    assert (response.questionnaire_id, response.questionnaire_version) == ("small", "1")


async def test_a_form_message_that_cannot_be_edited_continues_in_a_new_one(
    chat_user: Callable[..., ChatUser],
    engine: Engine,
    clock: FrozenClock,
    rec: RecordingRequest,
) -> None:
    jan = await resident(chat_user, engine, clock, 913, name="Jan")
    await jan.send("/survey")
    await jan.press("Dalej")
    gone = jan.last
    rec.fail_with["editMessageText"] = (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"},
    )
    await jan.press("4 — ")
    fresh = jan.last
    assert fresh.message_id != gone.message_id and "· 2/12" in fresh.text
    await jan.send("?")  # the dialog follows the new message: its copy is the one replaced
    assert fresh.buttons() == [] and "· 2/12" in jan.last.text
    assert answers(engine) == {"se_cope": "4"}
