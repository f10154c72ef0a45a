"""`migrasafe plan`: the safe, expand-contract steps of a schema change, written as migration files
in the project's own format and checked by `migrasafe check` before they are written.

    from migrasafe.plan.planner import prepare, write
    prepared = prepare("migrations/", "rename-column", {"column": "users.name", "new_name": "full_name"})
    write(prepared)

Submodules are imported where they are used: the command line builds its parser from
`operations` on every run and must not pay for the SQL parser.
"""

# How the command list describes the two commands; the command line shows them on every run.
PLAN_HELP = "write the safe steps of a schema change as migration files"
FIX_HELP = "rewrite the mechanical cases: CONCURRENTLY, NOT VALID + VALIDATE, lock_timeout"
