"""List messages used in the code that a catalog lacks: `python scripts/i18n_check.py`.

Message ids are English; each area keeps its own
`translations/locales/<lang>/LC_MESSAGES/<area>.po`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from babel.messages.extract import extract_from_dir  # noqa: E402

from translations import SUPPORTED_LANGUAGES, catalog_messages  # noqa: E402

SOURCE_DIRS = (
    "bot",
    "handlers",
    "usecases",
    "schedules",
    "storage",
    "evaluation",
    "translations",
)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def used_messages() -> dict[str, str]:
    """Every message id in the code, with one place it is used."""
    found: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        path = ROOT / folder
        if not path.exists():
            continue
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(path), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            key = message[0] if isinstance(message, tuple) else message
            if key:
                found.setdefault(key, f"{folder}/{filename}:{lineno}")
    return found


def main() -> int:
    """Print what each language misses; exit 1 if anything does."""
    used = used_messages()
    missing_any = False
    for language in SUPPORTED_LANGUAGES:
        have = catalog_messages(language)
        for key, where in sorted(used.items(), key=lambda kv: kv[1]):
            if key not in have:
                missing_any = True
                print(f"{language}: {where}: {key!r}")
    return 1 if missing_any else 0


if __name__ == "__main__":
    raise SystemExit(main())
