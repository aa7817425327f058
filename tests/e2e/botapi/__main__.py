"""Run the fake Bot API standalone: python -m tests.e2e.botapi --port 8081 [--rate-limit]."""

from __future__ import annotations

import argparse
import asyncio
import signal

from .models import RateLimit
from .server import FakeBotApi


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse command-line options."""
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.botapi", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=None, help="accept only this bot token (default: any)")
    parser.add_argument(
        "--rate-limit", action="store_true", help="enforce Telegram-like flood limits"
    )
    parser.add_argument("--global-limit", type=int, default=30, help="sends per global window")
    parser.add_argument("--per-chat-burst", type=int, default=1, help="sends per chat window")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--strict-chats", action="store_true", help="400 for chats no user opened")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    limits: bool | RateLimit = (
        RateLimit(global_limit=args.global_limit, per_chat_burst=args.per_chat_burst)
        if args.rate_limit
        else False
    )
    api = FakeBotApi(
        args.token,
        host=args.host,
        port=args.port,
        rate_limit=limits,
        strict_chats=args.strict_chats,
    )
    api.set_latency(args.latency)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with api:
        print(f"Fake Telegram Bot API listening on {api.base_url}", flush=True)
        print(f"  PALBOT_API_URL={api.base_url}  control: {api.base_url}/_test/stats", flush=True)
        await stop.wait()
    print("Fake Telegram Bot API stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
