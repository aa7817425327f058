"""The bot's send budget, shared by every process on one PostgreSQL database."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

# The one budget row: every process of the deployment paces against it.
BUDGET_ROW = 1


class SendBudget(SQLModel, table=True):
    """Telegram's message budget as send slots handed out in order (one row).

    Instants are seconds since the epoch on the database's clock, so processes on
    different hosts agree on them.
    """

    id: int = Field(default=BUDGET_ROW, primary_key=True)
    # The earliest instant the next paced send of any kind may go.
    next_slot: float = 0.0
    # The same for announcements, which keep a lower rate of their own.
    next_broadcast_slot: float = 0.0
    # Telegram answered 429: no bulk send of any process goes before this.
    paused_until: float = 0.0
    # The last slot handed to a bulk send: bulk sending is going on while it is recent.
    last_bulk_slot: float = 0.0


class SendChatHold(SQLModel, table=True):
    """A chat that just got a message: bulk sends to it wait until `until`."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    until: float = Field(index=True)
    # Held by a bulk send (replies wait for it) or by a reply (only bulk sends wait).
    bulk: bool = False


class SendBudgetMember(SQLModel, table=True):
    """A live process sharing the budget: it says so every second."""

    worker: str = Field(primary_key=True, max_length=64)
    seen_at: float
