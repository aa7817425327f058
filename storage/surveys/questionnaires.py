"""Questionnaire definitions as data: the model, loading, validation and scoring.

A questionnaire is one YAML file (see `bot/surveys/default.yaml` for the format and
`bot/surveys/examples/` for a published scale). Everything here is Telegram-free, so the
evaluation package scores exactly what the chat asked.

Scoring rules, decided once here:
- a likert answer is its point number (1…points); `reverse: true` scores `points + 1 - x`;
- a single_choice answer scores its option's `score` (options without scores are not scored);
- a skipped item (None) is not answered; text items are never scored;
- a subscale is scored only when the share of its items answered is at least
  `min_answered` (default 0.8); `mean` averages the answered items; `sum` adds the
  answered items WITHOUT prorating, as the De Jong Gierveld manual counts its items —
  so use `mean` where answers may be missing and `sum` with `min_answered: 1.0`, or
  where the published scale's own missing-answer rule says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

SUPPORTED = ("pl", "uk", "en")
ITEM_ID = r"^[a-z][a-z0-9_]{0,31}$"
QUESTIONNAIRE_ID = r"^[a-z][a-z0-9_-]{0,63}$"
VERSION = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$"
OPTION_VALUE = r"^[a-z0-9][a-z0-9_]{0,31}$"
MIN_POINTS, MAX_POINTS = 4, 7
MAX_OPTIONS = 10
# SurveyAnswer.value holds at most 1000 characters.
MAX_TEXT_ANSWER = 1000
# Metadata that does not change what people are asked or how it is scored.
_NOT_FINGERPRINTED = ("citation", "licence")

log = logging.getLogger(__name__)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class SurveyPhase(StrEnum):
    """When a response is given: at the start of taking part, or at the end."""

    INITIAL = "initial"
    FINAL = "final"


class ItemPhase(StrEnum):
    """In which survey an item is asked."""

    BOTH = "both"
    INITIAL = "initial"
    FINAL = "final"


class ItemType(StrEnum):
    """How an item is answered."""

    LIKERT = "likert"
    SINGLE_CHOICE = "single_choice"
    TEXT = "text"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(BaseModel):
    """A text per language; Polish is required and is what other languages fall back to."""

    model_config = ConfigDict(extra="allow", frozen=True)

    pl: Text
    uk: Text | None = None
    en: Text | None = None

    @model_validator(mode="after")
    def _known_languages(self) -> LocalText:
        unknown = sorted((self.model_extra or {}).keys())
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r} (use pl, uk or en)")
        return self

    def get(self, language: str) -> str:
        """The text in `language`, or in Polish where it has no translation."""
        value = getattr(self, language, None) if language in SUPPORTED else None
        return value if isinstance(value, str) else self.pl

    def missing_languages(self) -> list[str]:
        """Languages that fall back to Polish."""
        return [lang for lang in SUPPORTED if getattr(self, lang) is None]


class ShortLocalText(LocalText):
    """A short label (a button): at most 60 characters per language."""

    pl: ShortText
    uk: ShortText | None = None
    en: ShortText | None = None


class Scale(_Strict):
    """A named answer scale of 4–7 points, labelled per language, numbered from 1."""

    labels: tuple[ShortLocalText, ...] = Field(min_length=MIN_POINTS, max_length=MAX_POINTS)

    @property
    def points(self) -> int:
        """How many points the scale has."""
        return len(self.labels)

    def label(self, point: int, language: str) -> str:
        """The label of point `point` (1-based)."""
        return self.labels[point - 1].get(language)


class Option(_Strict):
    """One answer of a single_choice item; `value` is what is stored."""

    value: Annotated[str, StringConstraints(pattern=OPTION_VALUE)]
    label: ShortLocalText
    score: float | None = None


class Item(_Strict):
    """One question."""

    id: Annotated[str, StringConstraints(pattern=ITEM_ID)]
    text: LocalText
    type: ItemType
    scale: str | None = None
    options: tuple[Option, ...] | None = None
    max_length: int | None = Field(default=None, ge=1, le=MAX_TEXT_ANSWER)
    reverse: bool = False
    phase: ItemPhase = ItemPhase.BOTH
    # Filled in by Questionnaire for likert items, so scoring needs only the item.
    _scale: Scale | None = PrivateAttr(default=None)

    @property
    def scale_def(self) -> Scale | None:
        """The resolved scale of a likert item."""
        return self._scale

    def asked_in(self, phase: SurveyPhase) -> bool:
        """Whether this item belongs to the survey of `phase`."""
        return self.phase == ItemPhase.BOTH or self.phase.value == phase.value

    @property
    def points(self) -> int:
        """Points of a likert item's scale (0 for other types)."""
        return self.scale_def.points if self.scale_def is not None else 0

    @property
    def scored(self) -> bool:
        """Whether answers to this item have a numeric score."""
        if self.type == ItemType.LIKERT:
            return True
        if self.type == ItemType.SINGLE_CHOICE:
            return bool(self.options) and all(o.score is not None for o in self.options or ())
        return False

    def choices(self, language: str) -> list[tuple[str, str]]:
        """(stored value, button label) for each answer, the number first: `1 — …`."""
        if self.type == ItemType.LIKERT and self.scale_def is not None:
            return [
                (str(point), f"{point} — {self.scale_def.label(point, language)}")
                for point in range(1, self.scale_def.points + 1)
            ]
        if self.type == ItemType.SINGLE_CHOICE:
            return [
                (option.value, f"{n} — {option.label.get(language)}")
                for n, option in enumerate(self.options or (), start=1)
            ]
        return []

    def is_valid_answer(self, raw: str) -> bool:
        """Whether `raw` is an answer this item accepts (as stored, not as typed)."""
        if self.type == ItemType.TEXT:
            return 0 < len(raw) <= (self.max_length or MAX_TEXT_ANSWER)
        return raw in {value for value, _ in self.choices("pl")}


class Subscale(_Strict):
    """A group of items scored together."""

    id: Annotated[str, StringConstraints(pattern=ITEM_ID)]
    title: LocalText | None = None
    items: tuple[str, ...] = Field(min_length=1)
    scoring: Literal["mean", "sum"] = "mean"
    min_answered: float = Field(default=0.8, gt=0, le=1)

    def label(self, language: str) -> str:
        """The subscale's name in a language (its id if it has no title)."""
        return self.title.get(language) if self.title else self.id


class Questionnaire(_Strict):
    """A whole questionnaire: what is asked, in which survey, and how it is scored."""

    id: Annotated[str, StringConstraints(pattern=QUESTIONNAIRE_ID)]
    version: Annotated[str, StringConstraints(pattern=VERSION)]
    title: LocalText
    intro: LocalText
    scales: dict[str, Scale] = Field(default_factory=dict)
    items: tuple[Item, ...] = Field(min_length=1)
    subscales: tuple[Subscale, ...] = ()
    citation: LongText | None = None
    licence: LongText | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        # `version: 2` in YAML is an int; the version is a label, not a number.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _resolve_scales(self) -> Questionnaire:
        for item in self.items:
            if item.type == ItemType.LIKERT and item.scale is not None:
                item._scale = self.scales.get(item.scale)
        return self

    def item(self, item_id: str) -> Item:
        """The item with an id (KeyError if there is none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def definition(self) -> dict[str, Any]:
        """The normalised content: defaults filled in, comments and layout gone."""
        return self.model_dump(mode="json")

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the normalised content (citation and licence notes excluded)."""
        content = {k: v for k, v in self.definition().items() if k not in _NOT_FINGERPRINTED}
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def estimated_minutes(self, phase: SurveyPhase) -> int:
        """About how long the survey of `phase` takes (15 s a choice, 1 min a text)."""
        seconds = sum(60 if i.type == ItemType.TEXT else 15 for i in items_for_phase(self, phase))
        return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire file, with where it is."""

    path: str
    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.location}: {self.message}"


class QuestionnaireError(Exception):
    """A questionnaire file cannot be used; `problems` says why and where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


@cache
def default_questionnaire_path() -> Path:
    """The questionnaire shipped with the bot, used when a programme names none."""
    # Cached: importlib.resources looks the package up again on every call.
    return Path(str(files("bot").joinpath("surveys", "default.yaml")))


def from_definition(definition: Mapping[str, Any]) -> Questionnaire:
    """Rebuild a questionnaire from the normalised content stored with its responses."""
    return Questionnaire.model_validate(dict(definition))


def items_for_phase(q: Questionnaire, phase: SurveyPhase | str) -> tuple[Item, ...]:
    """The items asked in the survey of `phase`, in order."""
    wanted = SurveyPhase(phase)
    return tuple(item for item in q.items if item.asked_in(wanted))


def item_score(item: Item, raw: str | None) -> float | None:
    """The item's score with reverse scoring applied; None if skipped or not scored.

    Raises ValueError for a value the item never accepts (corrupted data must not be
    scored silently).
    """
    if raw is None or not item.scored:
        return None
    if item.type == ItemType.LIKERT:
        if not raw.isdigit() or not 1 <= int(raw) <= item.points:
            raise ValueError(f"{raw!r} is not a point of item {item.id}'s scale")
        point = int(raw)
        return float(item.points + 1 - point if item.reverse else point)
    for option in item.options or ():
        if option.value == raw:
            return option.score
    raise ValueError(f"{raw!r} is not an option of item {item.id}")


def score_subscale(
    q: Questionnaire, subscale: Subscale, answers: Mapping[str, str | None]
) -> float | None:
    """One subscale's score, or None below its minimum share of answered items."""
    scores = [item_score(q.item(item_id), answers.get(item_id)) for item_id in subscale.items]
    answered = [s for s in scores if s is not None]
    # A tiny tolerance so that 0.8 of 5 items is met by 4 answers despite float rounding.
    if not answered or len(answered) / len(scores) < subscale.min_answered - 1e-9:
        return None
    total = math.fsum(answered)
    return total if subscale.scoring == "sum" else total / len(answered)


def score_subscales(q: Questionnaire, answers: Mapping[str, str | None]) -> dict[str, float | None]:
    """Every subscale's score for one response's answers (item id → raw answer)."""
    return {s.id: score_subscale(q, s, answers) for s in q.subscales}
