"""Printable A4 posters (PDF) for the notice board: one activity, or a programme's list.

Telegram-free: the builders take plain data and a translator and return PDF bytes, so
the handler only sends the file. Every poster carries a QR code of the sign-up deep
link and a line on how to sign up without Telegram; residents read it on paper.

The font is DejaVu Sans as shipped with matplotlib (already a dependency): it has the
Polish and Ukrainian letters (ł, ś, ż, і, ї, є) that reportlab's built-in fonts lack.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.poster_content import PosterActivity
from translations import Translator

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
# A4 in PDF points, and a centimetre: plain numbers, so that reportlab (about 30 MB with
# its fonts) loads when the first poster is drawn, not when `palbot run` starts.
PAGE_WIDTH, PAGE_HEIGHT = 595.2755905511812, 841.8897637795277
CM = 72 / 2.54
MARGIN = 1.8 * CM
ACCENT = "#1f4e79"
MUTED = "#4a4a4a"
BAND = "#e8eef5"
BLACK, WHITE = "#000000", "#ffffff"
# Activities per page of the programme poster, each with its own QR code.
ROWS_PER_PAGE = 6
# Handlers build posters in worker threads; reportlab's font registry and the embedded
# fonts' subsetting state are shared by every document, so one poster is drawn at a time.
_DRAWING = threading.Lock()


@cache
def register_fonts() -> None:
    """Make DejaVu Sans (regular and bold) known to reportlab, once per process."""
    # Found without importing matplotlib: that would cost the bot ~0.2 s and ~20 MB at start.
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"
    from reportlab.pdfbase import pdfmetrics  # heavy: reportlab
    from reportlab.pdfbase.ttfonts import TTFont  # heavy: reportlab

    pdfmetrics.registerFont(TTFont(REGULAR, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))


# ---------------------------------------------------------------- drawing helpers


def _draw_qr(canvas: Canvas, link: str, x: float, y: float, size: float) -> None:
    """The QR code of `link` as vector squares, `size` wide, lower-left corner at (x, y)."""
    import qrcode  # heavy: qrcode and Pillow

    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(link)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    # A quiet zone of four modules, in white, so the code scans even on a busy board.
    modules = len(matrix) + 8
    cell = size / modules
    canvas.setFillColor(WHITE)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(BLACK)
    path = canvas.beginPath()
    for row, line in enumerate(matrix):
        column = 0
        while column < len(line):
            if not line[column]:
                column += 1
                continue
            # One rectangle per run of dark modules: a third of the drawing operations.
            run = column
            while run < len(line) and line[run]:
                run += 1
            path.rect(
                x + (column + 4) * cell, y + size - (row + 5) * cell, (run - column) * cell, cell
            )
            column = run
    canvas.drawPath(path, stroke=0, fill=1)


def _fit_lines(
    text: str, font: str, size: float, width: float, max_lines: int, smallest: float
) -> tuple[list[str], float]:
    """Wrap `text` into at most `max_lines`, shrinking the font down to `smallest`."""
    while True:
        lines = _wrap(text, font, size, width)
        if len(lines) <= max_lines or size <= smallest:
            break
        size -= 2
    cut = len(lines) > max_lines
    lines = lines[:max_lines]
    for index, line in enumerate(lines):
        # One word wider than the page (a long name without spaces) is cut as well.
        if (cut and index == len(lines) - 1) or _width(line, font, size) > width:
            lines[index] = _ellipsis(line, font, size, width)
    return lines, size


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit  # heavy: reportlab

    return list(simpleSplit(text, font, size, width))


def _width(text: str, font: str, size: float) -> float:
    from reportlab.pdfbase import pdfmetrics  # heavy: reportlab

    return float(pdfmetrics.stringWidth(text, font, size))


def _ellipsis(text: str, font: str, size: float, width: float) -> str:
    """The longest start of `text` that fits `width` with an ellipsis after it."""
    while text and _width(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _lines(
    canvas: Canvas,
    lines: Sequence[str],
    font: str,
    size: float,
    x: float,
    y: float,
    *,
    color: str = BLACK,
    leading: float = 1.2,
    centre: bool = False,
) -> float:
    """Draw lines from the baseline `y` downwards; returns the y below the last one."""
    canvas.setFont(font, size)
    canvas.setFillColor(color)
    for line in lines:
        if centre:
            canvas.drawCentredString(x, y, line)
        else:
            canvas.drawString(x, y, line)
        y -= size * leading
    return y


def places_text(t: Translator, item: PosterActivity) -> str:
    """`Wolne miejsca: 3 z 12`, or that only the reserve list is left."""
    if item.cancelled:
        return t._("This activity has been called off.")
    if item.free == 0:
        return t._("No free places: sign up for the reserve list.")
    return t._("Free places: {free} of {places}").format(free=item.free, places=item.places)


def _without_telegram(t: Translator, contact: str | None, venue: str | None) -> str:
    if contact and venue:
        return t._("No Telegram? Sign up by phone: {contact}, or in person at {venue}.").format(
            contact=contact, venue=venue
        )
    if contact:
        return t._(
            "No Telegram? Sign up by phone: {contact}, or in person with the animator."
        ).format(contact=contact)
    if venue:
        return t._("No Telegram? Sign up in person at {venue}, or ask the animator.").format(
            venue=venue
        )
    return t._("No Telegram? Ask the animator: they sign you up.")


def _footer_box(canvas: Canvas, text: str, bottom: float) -> float:
    """The shaded box on how to sign up without Telegram, from `bottom` up; returns its top."""
    width = PAGE_WIDTH - 2 * MARGIN
    lines, size = _fit_lines(text, REGULAR, 14, width - 1 * CM, 4, 10)
    height = len(lines) * size * 1.3 + 0.8 * CM
    top = bottom + height
    canvas.setFillColor(BAND)
    canvas.roundRect(MARGIN, bottom, width, height, 6, stroke=0, fill=1)
    _lines(
        canvas,
        lines,
        REGULAR,
        size,
        MARGIN + 0.5 * CM,
        top - 0.4 * CM - size,
        color=BLACK,
        leading=1.3,
    )
    return top


def _header(canvas: Canvas, programme: str) -> float:
    """The programme's name in a band at the top; returns the y below it."""
    band = 1.4 * CM
    canvas.setFillColor(ACCENT)
    canvas.rect(0, PAGE_HEIGHT - band, PAGE_WIDTH, band, stroke=0, fill=1)
    name, size = _fit_lines(programme, BOLD, 14, PAGE_WIDTH - 2 * MARGIN, 1, 9)
    _lines(canvas, name, BOLD, size, MARGIN, PAGE_HEIGHT - band / 2 - size / 3, color=WHITE)
    return PAGE_HEIGHT - band - 1.2 * CM


def _new_canvas(buffer: io.BytesIO, title: str, t: Translator) -> Canvas:
    from reportlab.pdfgen.canvas import Canvas  # heavy: reportlab

    register_fonts()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    canvas.setTitle(title)
    canvas.setSubject(t._("Sign-up poster"))
    canvas.setCreator("PAL Bot")
    return canvas


# ---------------------------------------------------------------- the posters


def activity_poster(
    t: Translator, *, programme: str, item: PosterActivity, contact: str | None
) -> bytes:
    """One activity on an A4 page: what, when, where, places, the QR code, no-Telegram line."""
    with _DRAWING:
        return _activity_poster(t, programme=programme, item=item, contact=contact)


def _activity_poster(
    t: Translator, *, programme: str, item: PosterActivity, contact: str | None
) -> bytes:
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, item.title, t)
    width = PAGE_WIDTH - 2 * MARGIN
    y = _header(canvas, programme)

    title, size = _fit_lines(item.title, BOLD, 34, width, 3, 18)
    y = _lines(canvas, title, BOLD, size, MARGIN, y - size * 0.4, color=ACCENT, leading=1.15)
    y -= 0.5 * CM

    when = t.date(item.starts_at)
    hours = t._("Time: {start}–{end}").format(
        start=t.time(item.starts_at), end=t.time(item.ends_at)
    )
    y = _lines(canvas, [when[:1].upper() + when[1:]], BOLD, 24, MARGIN, y)
    y = _lines(canvas, [hours], REGULAR, 20, MARGIN, y)
    venue, venue_size = _fit_lines(
        t._("Where: {venue}").format(venue=item.venue), REGULAR, 20, width, 3, 13
    )
    y = _lines(canvas, venue, REGULAR, venue_size, MARGIN, y)
    places, places_size = _fit_lines(places_text(t, item), BOLD, 18, width, 2, 12)
    y = _lines(canvas, places, BOLD, places_size, MARGIN, y - 0.4 * CM, color=MUTED)

    footer_top = _footer_box(canvas, _without_telegram(t, contact, item.venue), MARGIN)
    caption_space = 2.3 * CM
    room = y - footer_top - caption_space - 0.8 * CM
    qr_size = min(10 * CM, room)
    # The code and its caption sit in the middle of the space left, not under the text.
    qr_top = y - 0.4 * CM - (room - qr_size) / 2
    _draw_qr(canvas, item.link, (PAGE_WIDTH - qr_size) / 2, qr_top - qr_size, qr_size)
    caption_y = qr_top - qr_size - 0.7 * CM
    caption = _wrap(
        t._("Scan the code with your phone's camera to sign up in Telegram."), BOLD, 14, width
    )
    caption_y = _lines(canvas, caption, BOLD, 14, PAGE_WIDTH / 2, caption_y, centre=True)
    _lines(canvas, [item.link], REGULAR, 11, PAGE_WIDTH / 2, caption_y, color=MUTED, centre=True)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def programme_poster(
    t: Translator, *, programme: str, items: Sequence[PosterActivity], bot: str, contact: str | None
) -> bytes:
    """A programme's upcoming activities, each with its QR code, six to an A4 page."""
    with _DRAWING:
        return _programme_poster(t, programme=programme, items=items, bot=bot, contact=contact)


def _programme_poster(
    t: Translator, *, programme: str, items: Sequence[PosterActivity], bot: str, contact: str | None
) -> bytes:
    buffer = io.BytesIO()
    heading = t._("Upcoming activities")
    canvas = _new_canvas(buffer, f"{heading} — {programme}", t)
    width = PAGE_WIDTH - 2 * MARGIN
    pages = [items[i : i + ROWS_PER_PAGE] for i in range(0, len(items), ROWS_PER_PAGE)] or [[]]
    for number, page in enumerate(pages, 1):
        footer_top = _footer_box(canvas, _without_telegram(t, contact, None), MARGIN)
        y = _header(canvas, programme)
        y = _lines(canvas, [heading], BOLD, 28, MARGIN, y - 0.3 * CM, color=ACCENT)
        note = _wrap(
            t._("Scan the code next to an activity to sign up in Telegram."), REGULAR, 12, width
        )
        y = _lines(canvas, note, REGULAR, 12, MARGIN, y, color=MUTED) - 0.2 * CM
        if not page:
            _lines(
                canvas,
                [t._("No activities are planned at the moment.")],
                REGULAR,
                16,
                MARGIN,
                y - 1 * CM,
            )
            _draw_qr(canvas, bot, (PAGE_WIDTH - 6 * CM) / 2, y - 9 * CM, 6 * CM)
        row_height = (y - footer_top - 0.3 * CM) / ROWS_PER_PAGE
        qr_size = min(row_height - 0.3 * CM, 3.6 * CM)
        for item in page:
            canvas.setStrokeColor(BAND)
            canvas.setLineWidth(1)
            canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
            _draw_qr(
                canvas,
                item.link,
                PAGE_WIDTH - MARGIN - qr_size,
                y - (row_height + qr_size) / 2,
                qr_size,
            )
            text_width = width - qr_size - 0.6 * CM
            line_y = y - 0.65 * CM
            when = t.date_time(item.starts_at)
            line_y = _lines(
                canvas, [when[:1].upper() + when[1:]], BOLD, 12, MARGIN, line_y, color=MUTED
            )
            title, size = _fit_lines(item.title, BOLD, 15, text_width, 2, 11)
            line_y = _lines(canvas, title, BOLD, size, MARGIN, line_y, color=ACCENT)
            venue, venue_size = _fit_lines(
                t._("Where: {venue}").format(venue=item.venue), REGULAR, 11, text_width, 1, 9
            )
            line_y = _lines(canvas, venue, REGULAR, venue_size, MARGIN, line_y)
            _lines(canvas, [places_text(t, item)], REGULAR, 11, MARGIN, line_y)
            y -= row_height
        if len(pages) > 1:
            _lines(
                canvas,
                [t._("Page {page} of {pages}").format(page=number, pages=len(pages))],
                REGULAR,
                9,
                PAGE_WIDTH / 2,
                MARGIN / 2,
                color=MUTED,
                centre=True,
            )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
