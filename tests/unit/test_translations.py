"""Every message in the code is translated in every language, plurals included."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from handlers.commands import COMMANDS
from translations import LOCALES_DIR, SUPPORTED_LANGUAGES, catalog_messages, translator

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
