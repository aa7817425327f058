"""Marking texts for translation where they are defined but translated later.

`N_("…")` returns its argument unchanged; the message extractor (scripts/i18n_check.py)
collects it, and the report translates it with the evaluator's `Translator` when it
writes a label. This keeps each label and definition next to the code it describes.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a message id for extraction without translating it now."""
    return message
