"""Charts (matplotlib, Agg): subscale means before and after with 95 % intervals, and
participation by month. They draw only what the report already shows after disclosure
control: months whose attendances are hidden carry the symbol, not a bar.

Figures are built with the object API (`Figure`), never pyplot: reports are drawn in
worker threads, and pyplot's global figure registry is not thread-safe.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from evaluation.disclosure import Hidden
from evaluation.report import Report

BEFORE_COLOUR = "#8c8c8c"
AFTER_COLOUR = "#1f5fa8"


def subscale_figure(report: Report) -> Figure | None:
    """Mean score before and after per subscale with 95 % CIs; None without statistics."""
    points = report.subscales
    if not points:
        return None
    t = report.t
    figure = Figure(figsize=(8, 1.2 + 0.8 * len(points)), layout="constrained")
    axes = figure.subplots()
    for index, point in enumerate(points):
        y = len(points) - index
        for offset, mean, low, high, colour in (
            (0.12, point.before_mean, point.before_low, point.before_high, BEFORE_COLOUR),
            (-0.12, point.after_mean, point.after_low, point.after_high, AFTER_COLOUR),
        ):
            axes.errorbar(
                mean,
                y + offset,
                xerr=[[mean - low], [high - mean]],
                fmt="o",
                color=colour,
                capsize=4,
                markersize=7,
            )
    axes.set_yticks([len(points) - i for i in range(len(points))])
    axes.set_yticklabels(
        [
            t.ngettext("{label} ({n} pair)", "{label} ({n} pairs)", p.n_pairs).format(
                label=p.label, n=p.n_pairs
            )
            for p in points
        ]
    )
    axes.set_xlabel(t._("Mean score with 95% confidence interval"))
    axes.set_title(
        t._("Self-assessment before and after: {programme}").format(
            programme=report.programme_name
        ),
        fontsize=11,
    )
    axes.plot([], [], "o", color=BEFORE_COLOUR, label=t._("Before (initial survey)"))
    axes.plot([], [], "o", color=AFTER_COLOUR, label=t._("After (final survey)"))
    axes.legend(loc="lower right", fontsize=9)
    axes.grid(axis="x", alpha=0.3)
    return figure


def monthly_figure(report: Report) -> Figure | None:
    """Attendances per month (bars) with the number of activities held; None if empty."""
    points = report.monthly
    if not points:
        return None
    t = report.t
    figure = Figure(figsize=(max(6.0, 0.35 * len(points) + 2), 4), layout="constrained")
    axes = figure.subplots()
    positions = list(range(len(points)))
    heights = [p.attendances if isinstance(p.attendances, int) else 0 for p in points]
    axes.bar(positions, heights, color=AFTER_COLOUR, label=t._("Attendances"))
    top = max([*heights, 1])
    for x, point in zip(positions, points, strict=True):
        if isinstance(point.attendances, Hidden):
            axes.text(
                x,
                top * 0.02,
                point.attendances.symbol,
                ha="center",
                va="bottom",
                fontsize=8,
                color="#333333",
            )
    second = axes.twinx()
    second.plot(
        positions,
        [p.activities for p in points],
        color="#d9822b",
        marker=".",
        label=t._("Activities held"),
    )
    second.set_ylabel(t._("Activities held"))
    second.set_ylim(bottom=0)
    second.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(t._("Attendances"))
    if any(isinstance(p.attendances, Hidden) for p in points):
        axes.set_xlabel(
            t._("{symbol} or x: hidden to protect privacy (see the workbook's definitions)").format(
                symbol=report.rules.small_symbol
            ),
            fontsize=8,
        )
    step = max(1, len(points) // 18)
    axes.set_xticks(positions[::step])
    axes.set_xticklabels([p.month for p in points][::step], rotation=60, fontsize=8)
    axes.set_title(
        t._("Participation by month: {programme}").format(programme=report.programme_name),
        fontsize=11,
    )
    handles = axes.get_legend_handles_labels()[0] + second.get_legend_handles_labels()[0]
    axes.legend(handles=handles, loc="upper right", fontsize=9, framealpha=0.9)
    return figure


def figures(report: Report) -> dict[str, Figure]:
    """Every chart the report has data for, by file stem."""
    out = {}
    for stem, build in (("prepost", subscale_figure), ("participation_by_month", monthly_figure)):
        figure = build(report)
        if figure is not None:
            out[stem] = figure
    return out


def save_charts(report: Report, folder: Path, formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Draw and save every chart; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, figure in figures(report).items():
        for fmt in formats:
            path = folder / f"{stem}.{fmt}"
            figure.savefig(path, dpi=150, metadata=_metadata(fmt))
            written.append(path)
    return written


def _metadata(fmt: str) -> dict[str, str | None]:
    # No software/date fingerprints beyond what is needed; never any names.
    if fmt == "png":
        return {"Software": None}
    if fmt == "svg":
        return {"Date": None}
    return {}
