"""Logging set-up: a periodic job cancelled because the bot stops is not logged as an error."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

from bot.cli.common import configure_logging


def _job_error(error: BaseException) -> None:
    try:
        raise error
    except BaseException:
        logging.getLogger("apscheduler.executors.default").error(
            "Error running job %s", "tick", exc_info=sys.exc_info()
        )


def test_a_job_cancelled_at_stop_is_not_an_error_but_a_failing_job_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging("INFO")
    with caplog.at_level(logging.WARNING):
        _job_error(asyncio.CancelledError())
        assert caplog.records == []
        _job_error(RuntimeError("database is down"))
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
