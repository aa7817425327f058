"""Use cases: one call per tap, run in one transaction, returning a plain result.

A handler parses the update, calls one function here through the database executor
(storage/executor.py: one thread hop, one transaction) and renders the frozen dataclass
it gets back. The function identifies the sender itself, applies the rules of
storage/ and writes everything the tap causes (places, reminders, survey follow-ups,
outbox and audit rows) in that same transaction; an error rolls all of it back.
Nothing here knows Telegram.
"""
