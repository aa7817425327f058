"""Starting and stopping an Application without its updater, hooks included.

python-telegram-bot runs post_init/post_stop/post_shutdown only inside run_polling and
run_webhook; webhook mode and background-only mode drive the Application themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.context import PalApplication

Hook = Callable[[PalApplication], Awaitable[Any]] | None


@asynccontextmanager
async def running(application: PalApplication) -> AsyncIterator[None]:
    """Initialise and start the application, and stop and shut it down on exit."""
    await application.initialize()
    try:
        post_init: Hook = application.post_init
        if post_init is not None:
            await post_init(application)
        await application.start()
        try:
            yield
        finally:
            # stop() waits until every queued and running update is handled and every
            # job has finished; pending sends not yet claimed stay in the table.
            await application.stop()
            post_stop: Hook = application.post_stop
            if post_stop is not None:
                await post_stop(application)
    finally:
        await application.shutdown()
        post_shutdown: Hook = application.post_shutdown
        if post_shutdown is not None:
            await post_shutdown(application)
