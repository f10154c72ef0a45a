"""Containers many records hold at once, so that a large file's thousands of equal or empty
lists, dicts and sets are one object each.

They read as what they stand for. A list of them refuses any change in place (`+=` gives the
holder a new list of its own instead); the empty dict refuses additions, and removing from it
changes nothing, as from any empty dict. A copy or a pickle stays shared where the original was
(copy and pickle keep one copy of an object met twice), so it stays one that refuses changes.
"""
from __future__ import annotations


def _refuse(self, *args, **kwargs):
    raise TypeError(f"this {type(self).__name__} is shared by several records: assign a new one instead")


class SharedList(list):
    __slots__ = ()

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __imul__ = _refuse

    def __iadd__(self, other):
        return [*self, *other]

    def __reduce__(self):
        return SharedList, (list(self),)


class SharedEmptyDict(dict):
    __slots__ = ()

    __setitem__ = setdefault = update = __ior__ = _refuse

    def __reduce__(self):
        return SharedEmptyDict, ()


NONE = SharedList()  # no findings, no rewrites, no partitions...
EMPTY_DICT = SharedEmptyDict()
EMPTY_SET = frozenset()
