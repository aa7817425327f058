"""`python -m bot` is the same as the `palbot` command."""

from bot.cli import main

raise SystemExit(main())
