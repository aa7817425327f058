"""Poster benchmark: how long the PDFs take to draw, and how big they are.

    .venv/bin/python -m tests.bench.bench_posters [--rounds 5] [--activities 30]

Measured in one process after a warm-up (fonts registered): an activity's A4 poster and
the programme's poster of `--activities` upcoming activities (the most the chat prints),
each with its QR codes. Printed: median and worst wall time and the PDF size. The
handler draws posters in a worker thread, so the time is the wait for the animator, not
a stall of the bot; target: < 0.2 s for an activity, < 2 s for the programme's poster.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.poster_content import PosterActivity, activity_link, bot_link
from bot.posters import activity_poster, programme_poster
from translations import translator


def _items(count: int) -> list[PosterActivity]:
    start = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    return [
        PosterActivity(
            title=f"Warsztaty ceramiki dla seniorów, spotkanie {i + 1}",
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, hours=2),
            venue="Klub Seniora „Złota Jesień”, ul. Łąkowa 12",
            places=12,
            taken=i % 13,
            link=activity_link("pal_bot", 100_000 + i),
        )
        for i in range(count)
    ]


def _time(rounds: int, build: Callable[[], bytes]) -> tuple[list[float], int]:
    times: list[float] = []
    size = 0
    for _ in range(rounds):
        began = time.perf_counter()
        size = len(build())
        times.append(time.perf_counter() - began)
    return times, size


def main() -> None:
    """Draw each poster `--rounds` times and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--activities", type=int, default=30)
    args = parser.parse_args()
    t = translator("pl")
    items = _items(args.activities)

    def one() -> bytes:
        return activity_poster(
            t, programme="PAL Osiedle Słoneczne", item=items[0], contact="tel. 22 123 45 67"
        )

    def listing() -> bytes:
        return programme_poster(
            t,
            programme="PAL Osiedle Słoneczne",
            items=items,
            bot=bot_link("pal_bot"),
            contact="tel. 22 123 45 67",
        )

    one()  # warm-up: fonts registered, modules imported
    single, single_size = _time(args.rounds, one)
    many, many_size = _time(args.rounds, listing)
    print(
        f"activity poster:  median {statistics.median(single) * 1000:.0f} ms, "
        f"worst {max(single) * 1000:.0f} ms, {single_size / 1024:.0f} kB"
    )
    print(
        f"programme poster ({args.activities} activities): median "
        f"{statistics.median(many) * 1000:.0f} ms, worst {max(many) * 1000:.0f} ms, "
        f"{many_size / 1024:.0f} kB"
    )
    print(
        f"RESULT activity_ms={statistics.median(single) * 1000:.0f} "
        f"programme_ms={statistics.median(many) * 1000:.0f} "
        f"activity_kb={single_size / 1024:.0f} programme_kb={many_size / 1024:.0f}"
    )


if __name__ == "__main__":
    main()
