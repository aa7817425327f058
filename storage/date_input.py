"""Dates, times and durations as animators type them, in Polish, Ukrainian or English.

Telegram-free and clock-free: every function takes "today" or the start time it is
relative to, so the wizard's rules and their tests share one parser. Anything not
understood raises `NotUnderstood`; the caller answers with a hint and keeps the draft.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta

__all__ = [
    "NotUnderstood",
    "parse_date",
    "parse_duration",
    "parse_end",
    "parse_time",
]


class NotUnderstood(ValueError):
    """The text is not a date, time or duration we can read."""


def _fold(text: str) -> str:
    """Lower-case, trimmed, without Polish diacritics and with one kind of apostrophe."""
    text = text.strip().lower().replace("’", "'").replace("ʼ", "'").replace("`", "'")
    # Polish letters lose their marks (środa → sroda); Cyrillic is left as it is because
    # NFKD would split й and ї into a letter plus a combining mark we then drop.
    out = []
    for char in text:
        if "a" <= char <= "z" or char in "ąćęłńóśźż":
            char = {"ł": "l"}.get(char, char)
            char = "".join(c for c in unicodedata.normalize("NFKD", char) if c.isascii())
        out.append(char)
    return re.sub(r"\s+", " ", "".join(out)).strip(" .,!")


# Relative days, every form an animator is likely to type.
_RELATIVE_DAYS: dict[str, int] = {
    "dzis": 0, "dzisiaj": 0, "today": 0, "сьогодні": 0, "сегодня": 0,
    "jutro": 1, "tomorrow": 1, "завтра": 1,
    "pojutrze": 2, "day after tomorrow": 2, "the day after tomorrow": 2, "післязавтра": 2,
    "послезавтра": 2,
    "za tydzien": 7, "next week": 7, "in a week": 7, "через тиждень": 7,
}  # fmt: skip

# Weekday stems (Monday = 0). Inflected forms (środę, п'ятницю, неділю) share the stem.
_WEEKDAY_STEMS: tuple[tuple[str, int], ...] = (
    ("poniedz", 0), ("pon", 0), ("wtor", 1), ("wt", 1), ("srod", 2), ("sr", 2),
    ("czwart", 3), ("czw", 3), ("piat", 4), ("pt", 4), ("sobot", 5), ("sob", 5),
    ("niedziel", 6), ("ndz", 6), ("nd", 6),
    ("monday", 0), ("mon", 0), ("tuesday", 1), ("tue", 1), ("wednesday", 2), ("wed", 2),
    ("thursday", 3), ("thu", 3), ("friday", 4), ("fri", 4), ("saturday", 5), ("sat", 5),
    ("sunday", 6), ("sun", 6),
    ("понеділ", 0), ("пн", 0), ("вівтор", 1), ("вт", 1), ("серед", 2), ("ср", 2),
    ("четвер", 3), ("чт", 3), ("п'ятниц", 4), ("пятниц", 4), ("пт", 4), ("субот", 5),
    ("сб", 5), ("неділ", 6), ("нд", 6),
)  # fmt: skip

# Month stems in nominative and genitive (grudzień/grudnia, грудень/грудня, December).
_MONTH_STEMS: tuple[tuple[str, int], ...] = (
    ("stycz", 1), ("lut", 2), ("marz", 3), ("mar", 3), ("kwie", 4), ("maj", 5), ("czerw", 6),
    ("lip", 7), ("sierp", 8), ("wrze", 9), ("pazdziern", 10), ("listopad", 11), ("grud", 12),
    ("jan", 1), ("feb", 2), ("apr", 4), ("may", 5), ("jun", 6), ("jul", 7),
    ("aug", 8), ("sep", 9), ("oct", 10), ("nov", 11), ("dec", 12),
    ("січ", 1), ("лют", 2), ("берез", 3), ("квіт", 4), ("трав", 5), ("черв", 6), ("лип", 7),
    ("серп", 8), ("верес", 9), ("жовт", 10), ("листопад", 11), ("груд", 12),
)  # fmt: skip

# Words people put before a day that change nothing: "w środę", "we wtorek", "on Friday",
# "next Monday", "у п'ятницю", "в неділю", "наступного понеділка".
_FILLER = re.compile(
    r"^(?:w|we|on|next|this|this coming|w najblizszy|w najblizsza|najblizszy|najblizsza|"
    r"в|у|во|наступного|наступної|наступний|наступну|цього|цієї|цю|цей)\s+"
)
_NUMERIC = re.compile(r"^(\d{1,2})\s*[./-]\s*(\d{1,2})(?:\s*[./-]\s*(\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})\s*([^\d\s].*?)(?:\s+(\d{4}))?$")
_MONTH_NAME_DAY = re.compile(r"^([^\d\s]+)\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$")


def _weekday(word: str) -> int | None:
    word = word.strip(" .,")
    for stem, number in _WEEKDAY_STEMS:
        # Short stems (pon, wt, пн) only as whole words, so "sobota" is not "sob…" by luck.
        if (len(stem) <= 3 and word == stem) or (len(stem) > 3 and word.startswith(stem)):
            return number
    return None


def _month(word: str) -> int | None:
    word = word.strip(" .,")
    if len(word) < 3:
        return None
    for stem, number in _MONTH_STEMS:
        if word.startswith(stem):
            return number
    return None


def _safe_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise NotUnderstood(f"no such day: {day}.{month}.{year}") from None


def _upcoming(today: date, month: int, day: int) -> date:
    """The next 12.12 on or after today (this year, or next year once it has passed)."""
    if month == 2 and day == 29:
        # Find the next leap year rather than failing in three years out of four.
        for year in range(today.year, today.year + 8):
            try:
                candidate = date(year, 2, 29)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    candidate = _safe_date(today.year, month, day)
    return candidate if candidate >= today else _safe_date(today.year + 1, month, day)


def _named_month(text: str) -> tuple[int, int, str | None] | None:
    """(day, month, year or None) from `12 grudnia 2026` or `December 12th, 2026`."""
    if match := _DAY_MONTH_NAME.match(text):
        day_text, month_text, year_text = match[1], match[2], match[3]
    elif match := _MONTH_NAME_DAY.match(text):
        month_text, day_text, year_text = match[1], match[2], match[3]
    else:
        return None
    month = _month(month_text)
    return None if month is None else (int(day_text), month, year_text)


def parse_date(text: str, *, today: date) -> date:
    """Read `12.12`, `12.12.2026`, `2026-12-12`, `12 grudnia`, `jutro`, `tomorrow`, `завтра`,
    `pojutrze` or a weekday name (the next such day after today).

    A date without a year means its next occurrence; the caller decides whether a past
    date (only possible with an explicit year) is allowed.
    """
    folded = _fold(text)
    if not folded:
        raise NotUnderstood("empty")
    if folded in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[folded])
    stripped = _FILLER.sub("", folded)
    if stripped in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[stripped])
    weekday = _weekday(stripped) if " " not in stripped else None
    if weekday is not None:
        ahead = (weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    if match := _ISO.match(stripped):
        return _safe_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _NUMERIC.match(stripped):
        day, month, year = int(match[1]), int(match[2]), match[3]
        if year is None:
            return _upcoming(today, month, day)
        full_year = int(year) + 2000 if len(year) == 2 else int(year)
        return _safe_date(full_year, month, day)
    named = _named_month(stripped)
    if named is not None:
        day, month_number, year_text = named
        if year_text:
            return _safe_date(int(year_text), month_number, day)
        return _upcoming(today, month_number, day)
    raise NotUnderstood("not a date")


_TIME = re.compile(
    r"^(?:(?:godz|godzina|o godz|o|at|о|об|о годині)\.?\s*)?"
    r"(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?\s*(?:h|godz\.?|год\.?|am|pm|a\.m\.?|p\.m\.?)?$"
)
_AM_PM = re.compile(r"(am|pm|a\.m\.?|p\.m\.?)$")


def parse_time(text: str) -> time:
    """Read `17`, `17:00`, `17.30`, `17h30`, `godz. 17`, `5 pm` as a time of day."""
    folded = _fold(text).replace(" : ", ":")
    match = _TIME.match(folded)
    if not match:
        raise NotUnderstood("not a time")
    hour, minute = int(match[1]), int(match[2] or 0)
    suffix = _AM_PM.search(folded)
    if suffix:
        if not 1 <= hour <= 12:
            raise NotUnderstood("not a 12-hour time")
        hour = hour % 12 + (12 if suffix[1].startswith("p") else 0)
    if hour == 24 and minute == 0:
        raise NotUnderstood("use 0:00 of the next day")
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise NotUnderstood("not a time of day")
    return time(hour, minute)


# Longer spellings first: the regex takes the first alternative that fits.
_DURATION_UNITS = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(hours?|hrs?|h|godz(?:iny|ina|in)?\.?|год(?:ини|ина|ин)?\.?|"
    r"minutes?|minut[ay]?|mins?\.?|хвилин[аи]?|хв\.?)"
)
_HOURS_UNIT = re.compile(r"^(h|godz|hour|hr|год)")


def parse_duration(text: str) -> timedelta:
    """Read `1h`, `1,5 h`, `90 min`, `2 godz.`, `1 h 30 min`, `2 години` as a length."""
    folded = _fold(text)
    matches = list(_DURATION_UNITS.finditer(folded))
    leftover = _DURATION_UNITS.sub("", folded).strip(" ,.i&+и")
    if not matches or leftover not in {"", "and", "i", "і", "та"}:
        raise NotUnderstood("not a duration")
    total = timedelta()
    for match in matches:
        amount = float(match[1].replace(",", "."))
        unit = match[2]
        total += timedelta(hours=amount) if _HOURS_UNIT.match(unit) else timedelta(minutes=amount)
    if total <= timedelta():
        raise NotUnderstood("duration must be positive")
    return total


_UNTIL = re.compile(r"^(?:do|until|till|to|до)\s+")


def parse_end(text: str, *, start: time) -> timedelta:
    """Read how long an activity lasts, as a duration (`2 h`) or an end time (`do 19:00`).

    Returns the length from `start`. An end time earlier than the start is refused
    rather than read as past midnight: evening activities rarely cross it, and a
    wrong guess would silently make a 20-hour workshop.
    """
    try:
        return parse_duration(text)
    except NotUnderstood:
        pass
    end = parse_time(_UNTIL.sub("", _fold(text)))
    start_minutes = start.hour * 60 + start.minute
    end_minutes = end.hour * 60 + end.minute
    return timedelta(minutes=end_minutes - start_minutes)
