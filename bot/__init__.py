"""Composition root, settings, translations, keyboards and the `palbot` command line."""
