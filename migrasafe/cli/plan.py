"""`migrasafe plan` and `migrasafe fix`: their parsers live with the plan package."""
from __future__ import annotations


def add_command(commands, only: str | None) -> None:
    if only in (None, "plan", "fix"):
        from ..plan.command import add_fix_command, add_plan_command, add_plan_placeholder

        if only == "fix":
            add_plan_placeholder(commands)
        else:
            add_plan_command(commands)
        add_fix_command(commands)
    else:
        # Listed, not runnable: another command runs, and the plan module is not worth loading.
        from ..plan import FIX_HELP, PLAN_HELP

        commands.add_parser("plan", help=PLAN_HELP)
        commands.add_parser("fix", help=FIX_HELP)

