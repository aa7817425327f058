"""Which HTTP client carries Bot API calls, and its pool and timeouts."""

from __future__ import annotations

from telegram.request import BaseRequest, HTTPXRequest

from bot.aiohttp_request import AiohttpRequest
from bot.settings import Settings


def bot_api_request(settings: Settings, *, for_updates: bool = False) -> BaseRequest:
    """The HTTP client for Bot API calls chosen by PALBOT_HTTP_CLIENT (aiohttp by default)."""
    if for_updates:
        # One long poll at a time; its read timeout is extended by the poll's own timeout.
        size, read_timeout, pool_timeout = 1, 5.0, 1.0
    else:
        # A burst (a webhook delivers up to 40 updates at once) queues for the 16
        # connections instead of failing after PTB's default 1 s pool timeout.
        size, read_timeout, pool_timeout = 16, 15.0, 30.0
    if settings.http_client == "httpx":
        return HTTPXRequest(
            connection_pool_size=size, read_timeout=read_timeout, pool_timeout=pool_timeout
        )
    return AiohttpRequest(
        connection_pool_size=size, read_timeout=read_timeout, pool_timeout=pool_timeout
    )
