"""Evaluation: participation indicators, the pre/post self-assessment comparison and
their outputs (workbook, CSV, charts), under one disclosure-control rule.

Telegram-free: the chat handler and the `palbot report` command both call
`evaluation.report.build_report` and the writers here. Nothing in this package writes
to the database (see `evaluation.source.report_session`).
"""
