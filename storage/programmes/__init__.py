"""Programmes and their annual editions: dates, settings, records, survey waves."""
