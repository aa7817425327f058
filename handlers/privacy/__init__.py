"""Data rights in the chat.

/privacy, /mydata, /forgetme, and erasure by an animator.
"""
