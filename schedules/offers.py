"""The offer expiry schedule: offers past their deadline expire and move down the line.

Telegram-free. The deadlines are rows in the database (storage.activities.offers), so nothing is
lost with a restart: the bot runs `expire_due_offers` right after start, which catches
every offer that fell due while it was down, and then every few seconds. Several
processes may run it at once; each activity is handled under its row lock, and an
offer already closed by another process is simply not due any more.
"""

from __future__ import annotations

import logging
from datetime import datetime

from storage.activities.offers import due_activity_ids, expire_activity_offers
from storage.executor import Database

log = logging.getLogger(__name__)

BATCH = 100
# Past this many rounds in one run the rest waits for the next run (a safety stop).
MAX_ROUNDS = 50


async def expire_due_offers(db: Database, *, now: datetime, batch: int = BATCH) -> int:
    """Expire every offer due at `now`, one transaction per activity; returns how many."""
    total = 0
    for _round in range(MAX_ROUNDS):
        activity_ids = await db.read(due_activity_ids, now=now, limit=batch)
        for activity_id in activity_ids:
            total += await db.write(expire_activity_offers, activity_id=activity_id, now=now)
        if len(activity_ids) < batch:
            break
    if total:
        log.info("offers: %s expired and passed on", total)
    return total
