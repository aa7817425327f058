"""Telegram handlers, thin: read input, make one use-case call, answer with a translated text.

Each feature module has a `register(app)`; bot/app.py calls them in the order they must
be tried.
"""
