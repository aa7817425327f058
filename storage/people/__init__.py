"""People and their roles.

Onboarding, identity, staff and invitations, people without Telegram, pseudonymous codes.
"""
