"""Everything sent later.

The outbox and its claims, reminders, announcements, the shared send budget.
"""
