"""The daily retention run: erase identities whose programmes' retention period passed.

Telegram-free: the bot's JobQueue calls `run_retention` once a day (and once shortly
after start, so a bot restarted every night before the hour still purges). Several
processes may call it at the same time; storage.privacy.retention makes that safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime

from storage.executor import Database
from storage.privacy.erasure import scrub_freed_space
from storage.privacy.retention import purge_batch

log = logging.getLogger(__name__)

BATCH = 200


async def run_retention(
    db: Database,
    *,
    now: datetime,
    protected_telegram_ids: Iterable[int] = (),
    batch: int = BATCH,
) -> int:
    """Erase everyone due, a batch per transaction; returns how many were erased."""
    protected = frozenset(protected_telegram_ids)
    total = 0
    while True:
        reports = await db.write(
            purge_batch, now=now, protected_telegram_ids=protected, limit=batch
        )
        if reports is None:
            log.info("retention: another process is purging; leaving it to that one")
            break
        total += len(reports)
        if len(reports) < batch:
            break
    if total:
        await asyncio.to_thread(scrub_freed_space, db.engine)
        log.info("retention: %s people erased", total)
    else:
        log.debug("retention: nobody due")
    return total
