"""Consultations.

Staff create and follow them, residents answer.
"""
