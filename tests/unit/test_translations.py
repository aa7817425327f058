"""Every message in the code is translated in every language, plurals included."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from handlers.commands import COMMANDS
from translations import (
    LOCALES_DIR,
    SUPPORTED_LANGUAGES,
    catalog_cache_dir,
    catalog_messages,
    load_catalog,
    translator,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from i18n_check import used_messages

EXPECTED_PLURALS = {"pl": 3, "uk": 3, "en": 2}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_has_every_message(language: str) -> None:
    have = catalog_messages(language)
    missing = {key: where for key, where in used_messages().items() if key not in have}
    assert not missing, f"{language} catalog misses: {missing}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_files_are_consistent(language: str) -> None:
    for po_path in (LOCALES_DIR / language / "LC_MESSAGES").glob("*.po"):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        assert catalog.num_plurals == EXPECTED_PLURALS[language], po_path.name
        for message in catalog:
            if message.pluralizable and message.id:
                assert isinstance(message.string, tuple | list), (po_path, message.id)
                assert len(message.string) == EXPECTED_PLURALS[language], (po_path, message.id)


def test_no_message_is_defined_twice() -> None:
    for language in SUPPORTED_LANGUAGES:
        seen: dict[str, str] = {}
        for po_path in sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")):
            with po_path.open("rb") as handle:
                for message in read_po(handle, locale=language):
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    if not key:
                        continue
                    assert key not in seen, (
                        f"{language}: {key!r} in {seen.get(key)} and {po_path.name}"
                    )
                    seen[key] = po_path.name


def test_polish_is_the_fallback_for_unknown_languages() -> None:
    assert translator("de").language == "pl"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_holds_no_message_the_code_no_longer_uses(language: str) -> None:
    used = used_messages()
    stale = sorted(key for key in catalog_messages(language) if key and key not in used)
    assert not stale, f"{language} catalog keeps unused messages: {stale}"


def test_every_command_is_described_in_every_language() -> None:
    for language in SUPPORTED_LANGUAGES:
        t = translator(language)
        for command in COMMANDS:
            described = command.describe(t)
            assert described and len(described) <= 256, (language, command.command)


def _copy_locales(target: Path) -> Path:
    shutil.copytree(LOCALES_DIR, target)
    return target


def _texts(catalog: Translations, language: str) -> dict[str, str]:
    """Every message of a language as the catalog translates it."""
    return {key: catalog.ugettext(key) for key in sorted(catalog_messages(language))}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_cached_catalog_translates_as_the_po_files(language: str, tmp_path: Path) -> None:
    compiled_now = load_catalog(language)
    first = load_catalog(language, cache_dir=tmp_path)  # compiles and keeps
    kept = sorted(p.name for p in tmp_path.glob("*.mo"))
    assert len(kept) == len(list((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")))
    again = load_catalog(language, cache_dir=tmp_path)  # read back
    assert _texts(first, language) == _texts(again, language) == _texts(compiled_now, language)
    assert again.ungettext("{n} place", "{n} places", 5) == compiled_now.ungettext(
        "{n} place", "{n} places", 5
    )
    assert sorted(p.name for p in tmp_path.glob("*.mo")) == kept


def test_an_edited_po_file_is_compiled_again(tmp_path: Path) -> None:
    locales, cache_dir = _copy_locales(tmp_path / "locales"), tmp_path / "cache"
    message = "Sign up"
    assert load_catalog("pl", locales=locales, cache_dir=cache_dir).ugettext(message) != message
    for po_path in (locales / "pl" / "LC_MESSAGES").glob("*.po"):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale="pl")
        if message in catalog:
            catalog[message].string = "Zapisuję się"
            with po_path.open("wb") as handle:
                write_po(handle, catalog)
            edited = po_path.stem
    assert load_catalog("pl", locales=locales, cache_dir=cache_dir).ugettext(message) == (
        "Zapisuję się"
    )
    # The old version of the edited area's file is gone; every area has one file.
    names = [p.name for p in cache_dir.glob("*.mo")]
    assert len([n for n in names if n.startswith(f"pl-{edited}-")]) == 1
    assert len(names) == len(list((locales / "pl" / "LC_MESSAGES").glob("*.po")))


def test_a_damaged_cached_catalog_is_compiled_again(tmp_path: Path) -> None:
    load_catalog("uk", cache_dir=tmp_path)
    for kept in tmp_path.glob("*.mo"):
        kept.write_bytes(kept.read_bytes()[:20])
    assert _texts(load_catalog("uk", cache_dir=tmp_path), "uk") == _texts(load_catalog("uk"), "uk")
    assert all(len(kept.read_bytes()) > 20 for kept in tmp_path.glob("*.mo"))


def test_catalogs_still_load_where_the_cache_cannot_be_written(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    catalog = load_catalog("en", cache_dir=blocked / "catalogs")
    assert _texts(catalog, "en") == _texts(load_catalog("en"), "en")


def test_the_cache_lives_in_the_users_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/someone")
    one, other = catalog_cache_dir(), catalog_cache_dir(Path("/elsewhere/locales"))
    assert one is not None and other is not None
    assert one.parent == other.parent == Path("/var/cache/someone/palbot/catalogs")
    assert one != other  # one folder per installation
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    assert catalog_cache_dir() == Path.home() / ".cache" / "palbot" / "catalogs" / one.name
