"""The self-assessment survey in the chat.

Residents' own and paper surveys entered by animators.
"""
