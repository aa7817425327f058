"""Time-driven work: reminders, follow-ups, reserve-list notices and broadcast dispatch.

The database is the source of truth; nothing here imports `telegram`. Messages leave
through the `Sender` protocol that `bot/` implements.
"""
