"""Wiring the consultation schedule into the Application: a tick on start and every 30 s.

The job carries no data: each tick reloads from the database what is due, and opening or
closing is claimed by a state change, so several processes may tick at once.
"""

from __future__ import annotations

import logging

from bot.context import PalApplication, PalContext, Services
from schedules.consultations import ConsultationSchedule

log = logging.getLogger(__name__)

TICK_JOB = "consultations:tick"
TICK_SECONDS = 30.0
SCHEDULE = "consultations"


def schedule_of(services: Services) -> ConsultationSchedule:
    """The application's consultation schedule."""
    schedule = services.extras[SCHEDULE]
    assert isinstance(schedule, ConsultationSchedule)
    return schedule


async def _tick_or_wait(services: Services) -> None:
    try:
        await schedule_of(services).tick()
    except Exception as exc:  # the database may be down for a moment: the next tick retries
        log.warning("consultation schedule could not tick: %s", type(exc).__name__)


async def _tick(context: PalContext) -> None:
    await _tick_or_wait(context.services)


async def start_schedule(app: PalApplication) -> None:
    """Catch up with whatever became due while the bot was down, then tick every 30 s.

    An unreachable database does not stop the bot from starting (its health check says
    so); the ticks go on trying.
    """
    services: Services = app.bot_data["services"]
    await _tick_or_wait(services)
    if app.job_queue is not None:
        app.job_queue.run_repeating(_tick, interval=TICK_SECONDS, first=TICK_SECONDS, name=TICK_JOB)


def install(application: PalApplication) -> ConsultationSchedule:
    """Create the schedule; it catches up on start, then ticks with the JobQueue."""
    services: Services = application.bot_data["services"]
    schedule = ConsultationSchedule(services.db, services.clock)
    services.extras[SCHEDULE] = schedule
    services.on_start.append(start_schedule)
    return schedule
