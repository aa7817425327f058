"""Synchronous client for the fake server's /_test control API (for other processes)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .models import JSONDict

__all__ = ["ControlError", "FakeBotApiClient"]


class ControlError(RuntimeError):
    """A /_test endpoint answered with an error."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


class FakeBotApiClient:
    """Drive a FakeBotApi running in another process through HTTP."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, name: str, body: JSONDict | None = None, *, query: JSONDict | None = None,
              timeout: float | None = None) -> Any:  # fmt: skip
        """POST (with body) or GET a control endpoint and return its result."""
        url = f"{self.base_url}/_test/{name}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, data=data, method="GET" if data is None else "POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                description = json.loads(exc.read()).get("description", "")
            except ValueError:
                description = exc.reason
            raise ControlError(exc.code, str(description)) from None
        return payload.get("result")

    def health(self) -> JSONDict:
        """Return basic server info (raises if unreachable)."""
        result: JSONDict = self._call("health")
        return result

    def send_text(self, user_id: int, text: str, *, language_code: str | None = "pl",
                  first_name: str = "Test") -> int:  # fmt: skip
        """Enqueue a user text message; return its update_id."""
        body = {
            "user_id": user_id,
            "text": text,
            "language_code": language_code,
            "first_name": first_name,
        }
        return int(self._call("send_text", body)["update_id"])

    def send_document(
        self, user_id: int, data: bytes, file_name: str, *, caption: str | None = None
    ) -> int:
        """Enqueue a user document message; return its update_id."""
        body = {"user_id": user_id, "file_name": file_name, "caption": caption,
                "data_b64": base64.b64encode(data).decode()}  # fmt: skip
        return int(self._call("send_document", body)["update_id"])

    def press(self, user_id: int, message_id: int, data: str) -> int:
        """Enqueue a callback press by callback_data; return its update_id."""
        return int(
            self._call("press", {"user_id": user_id, "message_id": message_id, "data": data})[
                "update_id"
            ]
        )

    def press_button(self, user_id: int, text: str, message_id: int | None = None) -> int:
        """Press the newest button containing text; return its update_id."""
        body = {"user_id": user_id, "text": text, "message_id": message_id}
        return int(self._call("press_button", body)["update_id"])

    def block(self, user_id: int, *, send_update: bool = True) -> None:
        """Make the user block the bot."""
        self._call("block", {"user_id": user_id, "send_update": send_update})

    def unblock(self, user_id: int, *, send_update: bool = True) -> None:
        """Make the user unblock the bot."""
        self._call("unblock", {"user_id": user_id, "send_update": send_update})

    def messages(self, chat_id: int) -> list[JSONDict]:
        """Return the bot messages of a chat (see BotMessage.to_dict)."""
        result: list[JSONDict] = self._call("messages", query={"chat_id": chat_id})
        return result

    def events(self, chat_id: int, after: int | None = None) -> list[JSONDict]:
        """Return the chat's events with index > after (see BotEvent.to_dict)."""
        result: list[JSONDict] = self._call("events", query={"chat_id": chat_id, "after": after})
        return result

    def wait_message(self, chat_id: int, contains: str | None = None, *, after: int | None = None,
                     timeout: float = 10.0) -> JSONDict:  # fmt: skip
        """Long-poll for the first send/edit event after index after containing contains."""
        query = {"chat_id": chat_id, "contains": contains, "after": after, "timeout": timeout}
        result: JSONDict = self._call("wait_message", query=query, timeout=timeout + 5)
        return result

    def stats(self, *, chats: bool = True) -> JSONDict:
        """Return server statistics (see FakeBotApi.stats)."""
        result: JSONDict = self._call("stats", query={"chats": int(chats)})
        return result

    def commands(self) -> list[JSONDict]:
        """Return stored command sets."""
        result: list[JSONDict] = self._call("commands")
        return result

    def fail_next(self, method: str = "*", status: int = 500, count: int = 1, *,
                  retry_after: int | None = None) -> None:  # fmt: skip
        """Inject failures for the next calls of method."""
        self._call(
            "fail_next",
            {"method": method, "status": status, "count": count, "retry_after": retry_after},
        )

    def set_latency(self, seconds: float) -> None:
        """Delay every Bot API answer."""
        self._call("latency", {"seconds": seconds})

    def pause(self) -> None:
        """Make Bot API requests hang."""
        self._call("pause", {})

    def resume(self) -> None:
        """Let hanging Bot API requests proceed."""
        self._call("resume", {})

    def set_rate_limit(self, enabled: bool = True, **limits: float) -> None:
        """Enable/disable flood limits; limits: global_limit, global_window, per_chat_burst, ..."""
        self._call("rate_limit", {"enabled": enabled, **limits})
