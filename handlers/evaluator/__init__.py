"""What evaluators do.

Indicators and the before/after comparison as files.
"""
