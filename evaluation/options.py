"""What an evaluator's report covers and how: year, language, disclosure rules, detail."""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluation.disclosure import DisclosureRules
from evaluation.stats import ZeroMethod


@dataclass(frozen=True)
class ReportOptions:
    """What to report and how; the disclosure rules refuse thresholds below 3."""

    language: str = "pl"
    year: int | None = None
    rules: DisclosureRules = field(default_factory=DisclosureRules)
    row_level: bool = False
    timezone: str = "Europe/Warsaw"
    surveys_dir: str | None = None
    zero_method: ZeroMethod = "wilcox"
