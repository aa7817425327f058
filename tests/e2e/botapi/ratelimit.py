"""Rolling-window flood control modelled on Telegram's limits."""

from __future__ import annotations

import math
from collections import deque

from .models import RateLimit

__all__ = ["RateLimiter"]


class RateLimiter:
    """Admit or reject sends under a global and a per-chat rolling window."""

    def __init__(self, config: RateLimit) -> None:
        self.config = config
        self._global: deque[float] = deque()
        self._chats: dict[int, deque[float]] = {}
        # Which limit the last refusal met: "global" or "chat".
        self.last_refusal = ""

    def try_acquire(self, chat_id: int | None, now: float) -> int | None:
        """Record a send at now and return None, or return retry_after seconds if over a limit."""
        cfg = self.config
        _prune(self._global, now - cfg.global_window)
        wait = 0.0
        if len(self._global) >= cfg.global_limit:
            wait = self._global[len(self._global) - cfg.global_limit] + cfg.global_window - now
        chat_times: deque[float] | None = None
        if chat_id is not None:
            chat_times = self._chats.setdefault(chat_id, deque())
            _prune(chat_times, now - cfg.per_chat_window)
            if len(chat_times) >= cfg.per_chat_burst:
                chat_wait = (
                    chat_times[len(chat_times) - cfg.per_chat_burst] + cfg.per_chat_window - now
                )
                wait = max(wait, chat_wait)
        if (
            wait > 0
            or (len(self._global) >= cfg.global_limit)
            or (chat_times is not None and len(chat_times) >= cfg.per_chat_burst)
        ):
            self.last_refusal = "global" if len(self._global) >= cfg.global_limit else "chat"
            return max(1, math.ceil(wait))
        self._global.append(now)
        if chat_times is not None:
            chat_times.append(now)
        return None


def _prune(times: deque[float], cutoff: float) -> None:
    """Drop timestamps at or before cutoff."""
    while times and times[0] <= cutoff:
        times.popleft()
