"""The values settings are written in: durations, reminder offsets and quiet hours.

One parser each, shared by the deployment's environment settings (bot/settings.py) and a
programme's own settings stored in the database (storage/programmes/settings.py).
"""

from __future__ import annotations

import re
from datetime import time, timedelta

from pytimeparse2 import parse as parse_time_span

_HAS_UNIT = re.compile(r"[a-z]", re.IGNORECASE)
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_offsets(raw: str) -> tuple[timedelta, ...]:
    """Parse `24h,2h` into offsets, largest first; raise ValueError on any bad part."""
    offsets = [_one_duration(part, example="24h, 90m, 2d or 30s") for part in raw.split(",")]
    if any(offset <= timedelta(0) for offset in offsets):
        raise ValueError("offsets must be positive")
    return tuple(sorted(set(offsets), reverse=True))


def parse_duration(raw: str) -> timedelta:
    """Parse one duration like `12h`, `90m` or `0` (none); raise ValueError otherwise."""
    if raw.strip() in {"0", "off"}:
        return timedelta(0)
    return _one_duration(raw, example="12h, 90m, 2d or 0")


def _one_duration(raw: str, *, example: str) -> timedelta:
    # pytimeparse2 reads `12h`, `90m`, `1h30m`, `2 days`…; a bare number would be seconds
    # there, which nobody means for a reminder, so a unit is required.
    seconds = parse_time_span(raw.strip()) if _HAS_UNIT.search(raw) else None
    if not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(f"'{raw.strip()}' is not a duration like {example}")
    return timedelta(seconds=seconds)


QuietHours = tuple[time, time] | None


def parse_quiet_hours(raw: str) -> QuietHours:
    """Parse `21:00-08:00` (or `off`) into a (start, end) pair of local times."""
    if raw.strip().lower() in {"off", "none", ""}:
        return None
    match = _QUIET.match(raw)
    if not match:
        raise ValueError("use HH:MM-HH:MM, e.g. 21:00-08:00, or off")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"not a time of day: {exc}") from None
    if start == end:
        raise ValueError("start and end of quiet hours must differ")
    return start, end
