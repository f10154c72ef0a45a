"""The error a command raises for input it cannot use."""
from __future__ import annotations


class UsageError(Exception):
    """Input from the user that cannot be used; the message says which and why."""
