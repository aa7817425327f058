"""Telegram-like parsing of formatted text (HTML, MarkdownV2, Markdown) into plain text."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["EntityParseError", "render_text", "utf16_len"]

# Tags accepted by Telegram in parse_mode=HTML.
_HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip

# Characters that must be escaped in MarkdownV2 outside of code entities.
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


class EntityParseError(ValueError):
    """Formatted text was rejected the way Telegram rejects it (400 can't parse entities)."""


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, as Telegram measures it."""
    return len(text.encode("utf-16-le")) // 2


def render_text(text: str, parse_mode: str | None) -> str:
    """Validate text for parse_mode and return the plain text a user would see."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        return _render_html(text)
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return _render_markdown(text)
    raise EntityParseError(f"Unsupported parse_mode {parse_mode!r}")


class _TelegramHtml(HTMLParser):
    """HTML parser that enforces Telegram's small tag set and tag nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Accept only Telegram-supported start tags."""
        if tag not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Reject self-closing tags such as <br/>."""
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        """Require end tags to close the innermost open tag."""
        if not self.stack or self.stack[-1] != tag:
            offset = self._offset()
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{self.stack[-1]}>", '
                f'found "</{tag}>"'
                if self.stack
                else f"Unexpected end tag at byte offset {offset}"
            )
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        """Collect visible text."""
        self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        """Reject comments, which Telegram does not understand."""
        raise EntityParseError(f"Unsupported comment at byte offset {self._offset()}")

    def handle_decl(self, decl: str) -> None:
        """Reject declarations."""
        raise EntityParseError(f"Unsupported declaration at byte offset {self._offset()}")

    def _offset(self) -> int:
        """Return an approximate offset of the current position."""
        return self.getpos()[1]


def _render_html(text: str) -> str:
    """Render Telegram HTML into plain text."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
        )
    return "".join(parser.parts)


def _render_markdown_v2(text: str) -> str:
    """Render MarkdownV2 into plain text, rejecting unescaped reserved characters."""
    out: list[str] = []
    open_entities: list[str] = []
    in_link_text = False
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if ch == "\\":
            if i + 1 >= n:
                raise EntityParseError(
                    "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            out.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise EntityParseError(f"Can't find end of Pre entity at byte offset {i}")
            body = text[i + 3 : end]
            first_nl = body.find("\n")
            if first_nl >= 0 and body[:first_nl].strip() and " " not in body[:first_nl].strip():
                body = body[first_nl + 1 :]
            out.append(_unescape_code(body))
            i = end + 3
            continue
        if ch == "`":
            end = _find_unescaped(text, "`", i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of Code entity at byte offset {i}")
            out.append(_unescape_code(text[i + 1 : end]))
            i = end + 1
            continue
        if ch == "[" or (ch == "!" and text.startswith("![", i)):
            if in_link_text:
                raise EntityParseError(
                    "Character '[' is reserved and must be escaped with the preceding '\\'"
                )
            in_link_text = True
            i += 2 if ch == "!" else 1
            continue
        if ch == "]" and in_link_text:
            if not text.startswith("(", i + 1):
                raise EntityParseError(f"Can't find end of a URL at byte offset {i}")
            end = _find_unescaped(text, ")", i + 2)
            if end < 0:
                raise EntityParseError(f"Can't find end of a URL at byte offset {i}")
            in_link_text = False
            i = end + 1
            continue
        if ch == ">" and at_line_start:
            i += 1
            continue
        if text.startswith("**>", i) and at_line_start:
            i += 3
            continue
        marker = "__" if text.startswith("__", i) else "||" if text.startswith("||", i) else ch
        if marker in ("*", "_", "~", "__", "||"):
            if open_entities and open_entities[-1] == marker:
                open_entities.pop()
            else:
                open_entities.append(marker)
            i += len(marker)
            continue
        if ch in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(ch)
        i += 1
    if in_link_text:
        raise EntityParseError("Can't find end of a TextUrl entity")
    if open_entities:
        names = {
            "*": "Bold",
            "_": "Italic",
            "~": "Strikethrough",
            "__": "Underline",
            "||": "Spoiler",
        }
        raise EntityParseError(f"Can't find end of {names[open_entities[-1]]} entity")
    return "".join(out)


def _find_unescaped(text: str, char: str, start: int) -> int:
    """Return the index of the first char not preceded by a backslash escape, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def _unescape_code(body: str) -> str:
    """Remove backslash escapes of ` and \\ inside code entities."""
    return body.replace("\\\\", "\x00").replace("\\`", "`").replace("\x00", "\\")


def _render_markdown(text: str) -> str:
    """Render legacy Markdown into plain text."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {i}")
            out.append(text[i + 3 : end])
            i = end + 3
            continue
        if ch in "*_`":
            end = text.find(ch, i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {i}")
            inner = text[i + 1 : end]
            out.append(inner if ch == "`" else _render_markdown(inner))
            i = end + 1
            continue
        if ch == "[":
            close = text.find("](", i + 1)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close < 0 or end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {i}")
            out.append(text[i + 1 : close])
            i = end + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)
