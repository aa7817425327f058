"""What animators do.

The animator menu, the new-activity wizard and changes, attendance, participants,
announcements, outreach, acting for people without Telegram, spreadsheets.
"""
