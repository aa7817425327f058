"""Wiring the outbox dispatcher into the Application: JobQueue wake-ups, start and stop.

Two jobs with fixed names and no data drive it: `outbox:wake` runs once at the next due
time (moved whenever something earlier is queued), `outbox:sweep` runs every few
seconds to pick up sends queued by other processes (the CLI, a second bot process) and
to release claims of crashed workers. Both only poke the dispatcher, which reloads
everything from the database.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram.ext import JobQueue

from bot.context import PalApplication, PalContext, Services
from bot.sending import TelegramSender
from schedules.clock import Clock
from schedules.dispatcher import Dispatcher, DispatchSettings
from schedules.renderers import RENDERERS

log = logging.getLogger(__name__)

WAKE_JOB = "outbox:wake"
SWEEP_JOB = "outbox:sweep"
SWEEP_SECONDS = 5.0
DISPATCHER = "dispatcher"
SENDER = "sender"


class JobQueueAlarm:
    """The dispatcher's Alarm on python-telegram-bot's JobQueue."""

    def __init__(self, job_queue: JobQueue[Any], clock: Clock) -> None:
        self._job_queue = job_queue
        self._clock = clock

    def wake_at(self, when: datetime | None) -> None:
        """Replace the pending wake-up with one at `when` (None: no wake-up)."""
        for job in self._job_queue.get_jobs_by_name(WAKE_JOB):
            job.schedule_removal()
        if when is not None:
            # A delay rather than an instant: the injected clock decides what "due" means.
            delay = max((when - self._clock.now()).total_seconds(), 0.0)
            self._job_queue.run_once(_wake, when=delay, name=WAKE_JOB)


def dispatcher_of(services: Services) -> Dispatcher:
    """The application's dispatcher."""
    dispatcher = services.extras[DISPATCHER]
    assert isinstance(dispatcher, Dispatcher)
    return dispatcher


async def _wake(context: PalContext) -> None:
    dispatcher_of(context.services).poke()


async def _sweep(context: PalContext) -> None:
    await dispatcher_of(context.services).sweep()


def install(application: PalApplication) -> Dispatcher:
    """Create the dispatcher and have it start and stop with the application."""
    services: Services = application.bot_data["services"]
    settings = services.settings
    job_queue = application.job_queue
    sender = TelegramSender(application.bot, services.db, services.clock)
    dispatcher = Dispatcher(
        db=services.db,
        sender=sender,
        clock=services.clock,
        settings=DispatchSettings(timezone=settings.timezone, quiet_hours=settings.quiet_hours),
        alarm=JobQueueAlarm(job_queue, services.clock) if job_queue is not None else None,
        # Which function writes each kind of message: the one table in schedules/renderers.py.
        renderers=RENDERERS,
    )
    services.extras[DISPATCHER] = dispatcher
    services.extras[SENDER] = sender

    async def start(app: PalApplication) -> None:
        if app.job_queue is not None:
            app.job_queue.run_repeating(
                _sweep, interval=SWEEP_SECONDS, first=SWEEP_SECONDS, name=SWEEP_JOB
            )
        await dispatcher.start()
        log.info("outbox dispatcher started as %s", dispatcher.worker)

    async def stop(app: PalApplication) -> None:
        await dispatcher.stop()
        log.info("outbox dispatcher stopped: %s", dict(dispatcher.stats))

    services.on_start.append(start)
    services.on_stop.append(stop)
    return dispatcher
