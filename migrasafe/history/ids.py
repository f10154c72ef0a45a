"""The history rules' ids, where the suppression reader and the checks both need them."""
from __future__ import annotations

DUPLICATE_VERSION = "MS050"
OUT_OF_ORDER = "MS051"
EDITED = "MS052"
MULTIPLE_HEADS = "MS053"
FORKED_REVISION = "MS054"
CONFLICTING_LEAVES = "MS055"
LISTED_FILE_MISSING = "MS056"
FILE_NOT_LISTED = "MS057"

HISTORY_RULES = frozenset({
    DUPLICATE_VERSION, OUT_OF_ORDER, EDITED, MULTIPLE_HEADS, FORKED_REVISION, CONFLICTING_LEAVES,
    LISTED_FILE_MISSING, FILE_NOT_LISTED,
})
# Judged against the base branch: a run without --since cannot tell whether they hold.
SINCE_RULES = frozenset({OUT_OF_ORDER, EDITED, FORKED_REVISION})


# The data check's predictions (migrasafe/data_check/), made only with --data-from: a run without
# it cannot tell whether a suppression of one of them is still needed.
DATA_RULES = frozenset(f"MS06{digit}" for digit in range(10))


def is_history_rule(word: str) -> bool:
    """Whether a rule as a suppression names it (id or name) is one of these."""
    from ..rules.registry import find_rule

    rule = find_rule(word)
    return rule is not None and rule.id in HISTORY_RULES


def is_data_rule(word: str) -> bool:
    from ..rules.registry import find_rule

    rule = find_rule(word)
    return rule is not None and rule.id in DATA_RULES
