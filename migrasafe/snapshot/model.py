"""What a schema snapshot holds: schema objects, each keyed by its kind and a stable identity."""
from __future__ import annotations

from dataclasses import dataclass, field

# The order reports list kinds in: containers before what they contain.
KINDS = (
    "extension", "schema", "enum", "domain", "composite type", "range type", "table", "column", "constraint",
    "index", "sequence", "view", "materialized view", "function", "procedure", "aggregate", "trigger", "grant",
)

Key = tuple[str, str]  # (kind, identity)


@dataclass(frozen=True)
class SchemaObject:
    """One object of the schema.

    `identity` names it the way a DBA would, independent of OIDs: ``public.orders`` (a table,
    view or sequence), ``public.orders.note`` (a column), ``orders_pkey on public.orders`` (a
    constraint or trigger), ``public.orders_note_idx`` (an index), ``public.total(integer)`` (a
    function), ``SELECT on public.orders to reader`` (a grant). Names are quoted as SQL needs.

    `attributes` are what is compared, each a display string, a tuple of them, or None (absent).
    `parent` is the object it belongs to (a column's table): when the parent itself is on one side
    only, the difference is reported for the parent alone.
    """

    kind: str
    identity: str
    schema: str
    relation: str | None = None  # the table (or sequence owner) it belongs to, unquoted
    attributes: dict = field(default_factory=dict, compare=False, hash=False)
    parent: Key | None = None

    @property
    def key(self) -> Key:
        return (self.kind, self.identity)

    def to_json(self) -> dict:
        return {"kind": self.kind, "identity": self.identity,
                "attributes": {name: list(v) if isinstance(v, tuple) else v for name, v in self.attributes.items()}}


@dataclass
class Snapshot:
    """The schema of one database at one moment."""

    server_version: str  # "18.1"
    major: int
    database: str
    objects: dict[Key, SchemaObject] = field(default_factory=dict)

    def add(self, obj: SchemaObject) -> None:
        self.objects[obj.key] = obj

    def get(self, kind: str, identity: str) -> SchemaObject | None:
        return self.objects.get((kind, identity))

    def of_kind(self, kind: str) -> list[SchemaObject]:
        return sorted((o for o in self.objects.values() if o.kind == kind), key=lambda o: o.identity)

    def __len__(self) -> int:
        return len(self.objects)

    def to_json(self) -> dict:
        return {"server_version": self.server_version, "database": self.database,
                "objects": [self.objects[key].to_json() for key in sorted(self.objects, key=sort_key)]}


def sort_key(key: Key) -> tuple[int, str]:
    kind, identity = key
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), identity)
