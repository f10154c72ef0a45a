"""The one error a plan or a fix reports to the user instead of a traceback."""


class PlanError(Exception):
    """Input that cannot be planned; the message says which and why."""
