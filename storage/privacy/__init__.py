"""Data rights: erasure, the right of access, retention."""
