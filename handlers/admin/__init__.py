"""What admins and coordinators do.

/admin, programmes and editions, teams and invitation links, questionnaires, records.
"""
