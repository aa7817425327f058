"""Fake Telegram Bot API server and helpers for PAL Bot end-to-end tests."""

from .client import ControlError, FakeBotApiClient
from .models import (
    ApiCall,
    BotEvent,
    BotMessage,
    Button,
    CallbackAnswer,
    CallbackPress,
    CommandSet,
    ExpectationError,
    RateLimit,
    StoredFile,
)
from .process import BotProcess, bot_env
from .server import DEFAULT_TOKEN, FakeBotApi
from .user import TgUser

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "BotEvent",
    "BotMessage",
    "BotProcess",
    "Button",
    "CallbackAnswer",
    "CallbackPress",
    "CommandSet",
    "ControlError",
    "ExpectationError",
    "FakeBotApi",
    "FakeBotApiClient",
    "RateLimit",
    "StoredFile",
    "TgUser",
    "bot_env",
]
