"""Consultations with residents: drafts, running them, answers and results."""
