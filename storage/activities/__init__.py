"""Activities and places.

The list and card, the seat rule and reserve list, offers of freed places, attendance, the
wizard, changes, spreadsheets.
"""
