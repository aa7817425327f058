"""Documents in handler tests: people send files, the bot downloads them (getFile + GET)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from telegram.request import RequestData

from tests.support.chat import ChatUser, _update_ids
from tests.support.recording import RecordingRequest, SentMessage

_file_ids = itertools.count(1)


class FileRecordingRequest(RecordingRequest):
    """The offline Bot API with files people sent: getFile and the file download work."""

    def __init__(self) -> None:
        super().__init__()
        self.uploads: dict[str, bytes] = {}
        self.downloads = 0

    def upload(self, data: bytes) -> str:
        """Keep a file as if a user had sent it; returns its file_id."""
        file_id = f"upload{next(_file_ids)}"
        self.uploads[file_id] = data
        return file_id

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Serve file downloads and getFile; everything else as the recording API does."""
        if "/file/bot" in url:
            self.downloads += 1
            return 200, self.uploads[url.rsplit("/", 1)[-1]]
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if url.endswith("/getFile") and request_data is not None:
            file_id = str(request_data.parameters["file_id"])
            result = {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.uploads[file_id]),
                "file_path": file_id,
            }
            return 200, json.dumps({"ok": True, "result": result}).encode()
        return status, body


async def send_document(
    user: ChatUser, data: bytes, file_name: str, *, declared_size: int | None = None
) -> list[SentMessage]:
    """The user sends a file as a document."""
    assert isinstance(user.rec, FileRecordingRequest)
    file_id = user.rec.upload(data)
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "date": 1_780_000_000,
        "chat": {"id": user.user_id, "type": "private", "first_name": user.first_name},
        "from": {
            "id": user.user_id,
            "is_bot": False,
            "first_name": user.first_name,
            "language_code": user.language_code,
        },
        "document": {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": file_name,
            "file_size": len(data) if declared_size is None else declared_size,
        },
    }
    return await user._process({"update_id": next(_update_ids), "message": message})
