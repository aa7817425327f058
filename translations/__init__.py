"""Translations and locale-aware formatting: the bottom of the house, so every layer can use it.

Catalogs live in `translations/locales/<lang>/LC_MESSAGES/<area>.po`, one file per area of the
product, and are merged per language. Message ids are English source strings.

Parsing the .po files took about a tenth of every start's CPU, so each file's compiled form
(.mo) is kept in a cache under `$XDG_CACHE_HOME/palbot/catalogs/` (`~/.cache/…` by default),
named by a hash of the file's content: an edited, pulled or reinstalled .po file is compiled
again on first use, and if the cache cannot be written the catalogs are compiled in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import struct
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import babel
from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

Language = Literal["pl", "uk", "en"]
SUPPORTED_LANGUAGES: tuple[Language, ...] = ("pl", "uk", "en")
LOCALES_DIR = Path(__file__).with_name("locales")
LANGUAGE_NAMES = {"pl": "Polski", "uk": "Українська", "en": "English"}
_BABEL_LOCALE = {"pl": "pl_PL", "uk": "uk_UA", "en": "en_GB"}


def normalise_language(code: str | None, default: str = "pl") -> str:
    """Map a Telegram language_code (`uk-UA`, `en`) onto a supported language."""
    if code:
        short = code.split("-")[0].split("_")[0].lower()
        if short in SUPPORTED_LANGUAGES:
            return short
    return default


# Part of every cached file's name: a Babel upgrade compiles the catalogs again.
_COMPILED_BY = f"babel-{babel.__version__}".encode()


def catalog_cache_dir(locales: Path = LOCALES_DIR) -> Path | None:
    """Where this installation's compiled catalogs are kept (None when there is no home).

    One folder per installation (named by where its catalogs are), so that two checkouts
    of different versions never take turns replacing each other's files.
    """
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    except RuntimeError:  # no HOME and no entry in the password database
        return None
    installation = hashlib.sha256(str(locales.resolve()).encode()).hexdigest()[:16]
    return root / "palbot" / "catalogs" / installation


def load_catalog(
    language: str, *, locales: Path = LOCALES_DIR, cache_dir: Path | None = None
) -> Translations:
    """Every area's catalog of a language, merged; compiled ones come from cache_dir."""
    merged: Translations | None = None
    for po_path in sorted((locales / language / "LC_MESSAGES").glob("*.po")):
        # The first file's header gives the plural rule; every file shares the same one.
        part = _compiled_part(po_path, language, cache_dir)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged if merged is not None else Translations()


def _compiled_part(po_path: Path, language: str, cache_dir: Path | None) -> Translations:
    source = po_path.read_bytes()
    cached: Path | None = None
    if cache_dir is not None:
        digest = hashlib.sha256(_COMPILED_BY + b"\0" + source).hexdigest()[:32]
        cached = cache_dir / f"{language}-{po_path.stem}-{digest}.mo"  # see _keep
        # A missing or damaged file is compiled again below.
        with contextlib.suppress(OSError, ValueError, struct.error):
            return Translations(fp=io.BytesIO(cached.read_bytes()))
    buffer = io.BytesIO()
    write_mo(buffer, read_po(io.BytesIO(source), locale=language))
    if cached is not None:
        _keep(cached, buffer.getvalue(), versions=f"{language}-{po_path.stem}-")
    buffer.seek(0)
    return Translations(fp=buffer)


def _keep(path: Path, data: bytes, *, versions: str) -> None:
    """Write a compiled catalog whole (a reader never sees half a file) and drop the other
    versions of it: the files named `versions` + a hash of the same length."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"{versions}*.mo"):
            if old != path and len(old.name) == len(path.name):
                old.unlink(missing_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(temporary).replace(path)
        finally:
            Path(temporary).unlink(missing_ok=True)


@cache
def _catalog(language: str) -> Translations:
    return load_catalog(language, cache_dir=catalog_cache_dir())


@cache
def _locale(code: str) -> Locale:
    # One object per language: a fresh Locale loads its data again on every format.
    return Locale.parse(code)


@dataclass(frozen=True)
class Translator:
    """Texts and formats for one language."""

    language: str
    zone: ZoneInfo

    @property
    def _translations(self) -> Translations:
        return _catalog(self.language)

    def gettext(self, message: str) -> str:
        """Translate one message."""
        return self._translations.ugettext(message)

    def _(self, message: str) -> str:
        """Shorthand for gettext, the name Babel's extractor looks for."""
        return self._translations.ugettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message whose form depends on a count (three forms in pl/uk)."""
        return self._translations.ungettext(singular, plural, n)

    @property
    def locale(self) -> Locale:
        """The Babel locale for formatting."""
        return _locale(_BABEL_LOCALE[self.language])

    def local(self, moment: datetime) -> datetime:
        """An aware instant in the programme's local time."""
        return moment.astimezone(self.zone)

    def date(self, moment: datetime) -> str:
        """`wtorek, 1 grudnia` — weekday and day with the month in the genitive."""
        return format_date(self.local(moment), "EEEE, d MMMM", locale=self.locale)

    def time(self, moment: datetime) -> str:
        """`17:00` in local time."""
        return format_time(self.local(moment), "HH:mm", locale=self.locale)

    def day(self, day: dt.date) -> str:
        """`30.06.2027` (`30 Jun 2027` in English): a calendar day with its year."""
        pattern = "d MMM y" if self.language == "en" else "d.MM.y"
        return format_date(day, pattern, locale=self.locale)

    def short_day(self, day: dt.date) -> str:
        """`14.04` (`14 Apr` in English): a day of the coming months."""
        pattern = "d MMM" if self.language == "en" else "d.MM"
        return format_date(day, pattern, locale=self.locale)

    def weekday(self, day: dt.date) -> str:
        """`wtorek`: the day of the week."""
        return format_date(day, "EEEE", locale=self.locale)

    def date_time(self, moment: datetime) -> str:
        """`wtorek, 1 grudnia, 17:00`."""
        return f"{self.date(moment)}, {self.time(moment)}"

    def short_date_time(self, moment: datetime) -> str:
        """`1.12, 17:00` (`1 Dec, 17:00` in English) for buttons, where space is short."""
        local = self.local(moment)
        pattern = "d MMM, HH:mm" if self.language == "en" else "d.MM, HH:mm"
        return (
            format_date(local, pattern.split(",")[0], locale=self.locale) + ", " + self.time(local)
        )

    def number(self, value: int | float) -> str:
        """`1 200` in Polish, `1,200` in English."""
        return format_decimal(value, locale=self.locale)


@cache
def translator(language: str, zone_name: str = "Europe/Warsaw") -> Translator:
    """The translator for a language, falling back to Polish for unknown codes."""
    lang = language if language in SUPPORTED_LANGUAGES else "pl"
    return Translator(lang, ZoneInfo(zone_name))


def catalog_messages(language: str) -> set[str]:
    """Message ids that have a non-empty translation in a language (for completeness tests)."""
    ids: set[str] = set()
    for po_path in (LOCALES_DIR / language / "LC_MESSAGES").glob("*.po"):
        with po_path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if not message.id:
                    continue
                key = str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)
                strings = (
                    message.string
                    if isinstance(message.string, (tuple, list))
                    else (message.string,)
                )
                if all(strings) and not message.fuzzy:
                    ids.add(key)
    return ids
