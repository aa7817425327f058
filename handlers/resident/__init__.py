"""What residents do.

The first steps, the activity list and sign-up, their places, reminder answers, offers of
a freed place.
"""
