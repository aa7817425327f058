"""Persistence and the rules that must hold inside one database transaction.

Nothing here imports `telegram`: the rules are plain Python over SQLModel sessions.
"""
