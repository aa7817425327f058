"""Ewa prints posters for the notice board: the QR code on the paper opens the activity.

Each PDF is rendered to an image and its QR codes decoded, as a phone would; the text is
read back to check what a resident sees (title, weekday, venue, places, no-Telegram line).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from reportlab.lib.pagesizes import A4

from bot.poster_content import PosterActivity, activity_link, bot_link
from bot.posters import ROWS_PER_PAGE, activity_poster, programme_poster
from tests.support.pdf import page_qr_codes, page_sizes, page_texts
from translations import translator

# Tuesday 1 December 2026, 17:00 in Warsaw.
STARTS = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
PROGRAMME = "PAL Osiedle Słoneczne 2026"


def _item(
    activity_id: int = 42,
    *,
    title: str = "Warsztaty ceramiki — łączymy pokolenia",
    venue: str = "Klub Seniora „Złota Jesień”, ul. Łąkowa 12",
    places: int = 12,
    taken: int = 9,
    day: int = 0,
) -> PosterActivity:
    starts = STARTS + timedelta(days=day)
    return PosterActivity(
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        venue=venue,
        places=places,
        taken=taken,
        link=activity_link("pal_test_bot", activity_id),
    )


def _flat(text: str) -> str:
    # Wrapped lines are joined with spaces, so a phrase split over two lines still matches.
    return " ".join(text.split())


def test_the_activity_poster_qr_code_opens_the_activity() -> None:
    pdf = activity_poster(
        translator("pl"), programme=PROGRAMME, item=_item(), contact="22 123 45 67"
    )
    assert pdf.startswith(b"%PDF")
    assert page_qr_codes(pdf) == [["https://t.me/pal_test_bot?start=act_42"]]
    ((width, height),) = page_sizes(pdf)
    assert (round(width), round(height)) == (round(A4[0]), round(A4[1]))


def test_the_activity_poster_says_what_when_where_and_how_without_telegram() -> None:
    pdf = activity_poster(
        translator("pl"), programme=PROGRAMME, item=_item(), contact="22 123 45 67"
    )
    text = _flat(page_texts(pdf)[0])
    assert "Warsztaty ceramiki — łączymy pokolenia" in text
    assert "Wtorek, 1 grudnia" in text
    assert "Godzina: 17:00–19:00" in text
    assert "Gdzie: Klub Seniora „Złota Jesień”, ul. Łąkowa 12" in text
    assert "Wolne miejsca: 3 z 12" in text
    assert "Nie masz Telegramu? Zapisz się telefonicznie: 22 123 45 67 albo osobiście" in text
    assert PROGRAMME in text
    assert "https://t.me/pal_test_bot?start=act_42" in text


def test_a_full_activity_points_to_the_reserve_list_and_no_contact_to_the_venue() -> None:
    pdf = activity_poster(translator("pl"), programme=PROGRAMME, item=_item(taken=12), contact=None)
    text = _flat(page_texts(pdf)[0])
    assert "Brak wolnych miejsc: zapisz się na listę rezerwową." in text
    assert "Zapisz się osobiście: Klub Seniora" in text


def test_a_ukrainian_poster_keeps_its_letters() -> None:
    item = _item(title="Гурток української пісні: їжак і єнот", venue="Dom Kultury, ul. Długa 5")
    pdf = activity_poster(translator("uk"), programme=PROGRAMME, item=item, contact=None)
    text = _flat(page_texts(pdf)[0])
    assert "Гурток української пісні: їжак і єнот" in text
    assert "Вівторок, 1 грудня" in text
    assert page_qr_codes(pdf) == [[item.link]]


def test_a_very_long_title_and_venue_still_fit_one_page_with_a_readable_code() -> None:
    item = _item(title="Bardzo długi tytuł wydarzenia " * 7, venue="ul. Łąkowa 12, " * 20)
    pdf = activity_poster(
        translator("en"), programme="P" * 200, item=item, contact="tel. " + "600 100 200, " * 10
    )
    assert len(page_sizes(pdf)) == 1
    assert page_qr_codes(pdf) == [[item.link]]
    assert "…" in page_texts(pdf)[0]


def test_the_programme_poster_has_a_code_per_activity_six_to_a_page() -> None:
    items = [
        _item(activity_id=100 + i, title=f"Spotkanie {i}", day=i, taken=i)
        for i in range(ROWS_PER_PAGE + 2)
    ]
    pdf = programme_poster(
        translator("pl"),
        programme=PROGRAMME,
        items=items,
        bot=bot_link("pal_test_bot"),
        contact="22 123 45 67",
    )
    codes = page_qr_codes(pdf)
    assert codes == [
        [i.link for i in items[:ROWS_PER_PAGE]],
        [i.link for i in items[ROWS_PER_PAGE:]],
    ]
    first, second = (_flat(t) for t in page_texts(pdf))
    assert "Zajęcia i spotkania" in first and "Strona 1 z 2" in first
    assert "Wtorek, 1 grudnia, 17:00" in first and "Spotkanie 0" in first
    assert "Spotkanie 7" in second and "Wolne miejsca: 5 z 12" in second
    assert "Nie masz Telegramu? Zapisz się telefonicznie: 22 123 45 67" in second


@pytest.mark.parametrize("language", ["pl", "uk", "en"])
def test_an_empty_programme_poster_shows_the_bot_code(language: str) -> None:
    pdf = programme_poster(
        translator(language),
        programme=PROGRAMME,
        items=[],
        bot=bot_link("pal_test_bot"),
        contact=None,
    )
    assert page_qr_codes(pdf) == [["https://t.me/pal_test_bot"]]
    expected = {
        "pl": "Na razie nie ma zaplanowanych wydarzeń.",
        "uk": "Наразі запланованих подій немає.",
        "en": "No activities are planned at the moment.",
    }[language]
    assert expected in _flat(page_texts(pdf)[0])
