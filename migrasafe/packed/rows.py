"""Sequences whose items are made from columns when read, one object per row at a time."""
from __future__ import annotations

import weakref
from collections.abc import Sequence


class Rows(Sequence):
    """An item is made when read and is the same object for as long as something references
    it (so that `is` still tells statements apart); once nothing does, it is made again when
    next read. Subclasses say how many rows there are and how to make one."""

    def __init__(self):
        self._views: dict[int, weakref.ref] = {}
        self._sweep_at = 1024

    def _make(self, row: int):
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._view(row) for row in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("row out of range")
        return self._view(i)

    def __iter__(self):
        for row in range(len(self)):
            yield self._view(row)

    def __eq__(self, other):
        if isinstance(other, (list, tuple, Rows)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)}>"

    def _view(self, row: int):
        views = self._views
        ref = views.get(row)
        if ref is not None:
            view = ref()
            if view is not None:
                return view
        view = self._make(row)
        views[row] = weakref.ref(view)
        if len(views) > self._sweep_at:
            # The entries of items no longer referenced: dropped now and then rather than by a
            # callback per item (which would tie each item to this sequence in a cycle).
            for key in [key for key, ref in views.items() if ref() is None]:
                del views[key]
            self._sweep_at = max(1024, 2 * len(views))
        return view

    def _seen(self, row: int):
        """The item of `row` if one is referenced now, else None."""
        ref = self._views.get(row)
        return ref() if ref is not None else None
