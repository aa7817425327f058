"""Serving background work only: the outbox and scheduled jobs, no updates.

`palbot run --no-polling` (hidden; for a second process on one PostgreSQL database, and
for tests of exactly that): Telegram lets only one process poll a bot, so a second
process can still share the sending work but must not ask for updates.
"""

from __future__ import annotations

import asyncio
import signal

from bot.context import PalApplication
from bot.lifecycle import running


async def serve(application: PalApplication, stop: asyncio.Event) -> None:
    """Start the application without an updater until `stop` is set, then shut down."""
    async with running(application):
        await stop.wait()


def serve_background_only(application: PalApplication) -> None:
    """Run until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(application, stop)

    asyncio.run(main())
