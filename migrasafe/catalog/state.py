"""The in-memory schema: what exists after the migrations replayed so far."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ..shared import EMPTY_DICT, EMPTY_SET, NONE, SharedEmptyDict, SharedList
from .system import PG_CATALOG_RELATIONS, is_system

# slots: a large schema holds thousands of these. A type is never changed in place (a column
# gets a new one), so equal types are one object (names.type_spec).


@dataclass(frozen=True, slots=True)
class TypeSpec:
    name: str  # canonical lower-case name: int4, varchar, numeric, timestamptz, public.mood ...
    mods: tuple = ()  # typmods as written: (100,) for varchar(100), (10, 2) for numeric(10,2)
    array: bool = False

    def __str__(self) -> str:
        text = self.name
        if self.mods:
            text += "(" + ",".join(str(m) for m in self.mods) + ")"
        return text + ("[]" if self.array else "")


@dataclass(slots=True)
class Column:
    name: str
    type: TypeSpec
    not_null: bool = False
    has_default: bool = False
    default_volatile: bool = False
    identity: str = ""  # "a" always / "d" by default
    generated: str = ""  # "s" stored / "v" virtual
    sequence: str | None = None  # the sequence a serial column's nextval() default uses
    added_in: str | None = None  # the migration that added it to an existing table
    collation: str | None = None  # a COLLATE written for it; None: its type's default


@dataclass(slots=True)
class Constraint:
    name: str
    kind: str  # p primary, u unique, f foreign, c check, x exclusion, n not null
    columns: tuple[str, ...] = ()
    validated: bool = True
    references: str | None = None  # referenced relation of a foreign key
    not_null_of: str | None = None  # for CHECK (col IS NOT NULL): the column it proves
    index: str | None = None  # qualified index name that backs p/u/x constraints
    ref_columns: tuple[str, ...] = ()  # the referenced columns of a foreign key
    on_delete: str = "a"  # a no action, r restrict, c cascade, n set null, d set default
    on_update: str = "a"


@dataclass(slots=True)
class Index:
    name: str  # qualified "schema.name"
    table: str
    columns: tuple[str, ...] = ()
    unique: bool = False
    partial: bool = False
    valid: bool = True
    # A partitioned index made ON ONLY the partitioned table: the tables of the partition indexes
    # attached to it so far (None: made on the whole tree, it has one on every partition).
    attached: list[str] | None = None
    signature: tuple | None = None  # index_match.index_signature(): None when it cannot be compared
    created_in: str | None = None  # the migration that made it
    tablespace: str = "pg_default"  # its own: an index does not follow its table's


def _none() -> list:
    return NONE


def _no_entries() -> dict:
    return EMPTY_DICT


def _no_members() -> frozenset:
    return EMPTY_SET


# The containers a relation starts with are shared empty ones (most relations have no
# partitions, rules or foreign keys pointing at them; a sequence has no columns): the catalog
# changes one in place only through `changeable()`.
@dataclass(slots=True)
class Relation:
    name: str  # qualified "schema.name"
    kind: str  # table | partitioned | view | matview | sequence | foreign
    columns: dict[str, Column] = field(default_factory=_no_entries)
    constraints: dict[str, Constraint] = field(default_factory=_no_entries)
    indexes: list[str] = field(default_factory=_none)  # qualified index names
    partition_of: str | None = None
    partitions: list[str] = field(default_factory=_none)
    inherits: list[str] = field(default_factory=_none)
    depends_on: set[str] = field(default_factory=_no_members)  # what a view or matview reads
    # For a view or matview: relation -> the columns of it the query uses (None: not known).
    depends_on_columns: dict[str, set[str]] | None = None
    owned_sequences: list[str] = field(default_factory=_none)
    owned_by: str | None = None  # for a sequence: its table
    owned_by_column: str | None = None  # for a sequence: the column of owned_by it belongs to
    unlogged: bool = False
    tablespace: str = "pg_default"
    partition_key: tuple[str, ...] = ()  # for a partitioned table
    # For a partition: ("range", lower, upper) | ("list", values) | ("default",) | ("hash",)
    bound: tuple = ()
    # Key of the migration that created it; None for relations from earlier history or a dump.
    created_in: str | None = None
    has_triggers: bool = False
    # Rewrite rules: name -> (event: the CmdType number of the statement it fires on, its actions)
    rules: dict[str, tuple[int, tuple]] = field(default_factory=_no_entries)
    # False when the history does not show its columns (CREATE TABLE AS, LIKE or INHERITS of an
    # unknown table, a CREATE that did not parse): a column missing here may still exist.
    columns_known: bool = True
    # (table, constraint) of the foreign keys pointing here; checked on use, so a dropped key
    # simply falls out.
    referenced_by: set[tuple[str, str]] = field(default_factory=_no_members)

    def changeable(self, name: str):
        """The container field `name` as one of this relation's own, to change in place."""
        value = getattr(self, name)
        # By type, not identity: a copied catalog holds copies of the shared empties (a copy of
        # the empty frozenset is another frozenset).
        if isinstance(value, (SharedList, SharedEmptyDict, frozenset)):
            value = list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else set(value)
            setattr(self, name, value)
        return value

    @property
    def is_table(self) -> bool:
        return self.kind in ("table", "partitioned")

    @property
    def primary_key(self) -> tuple[str, ...]:
        """The primary key's columns; () without one."""
        return next((c.columns for c in self.constraints.values() if c.kind == "p"), ())

    def referencing(self, catalog: "Catalog") -> list[tuple["Relation", "Constraint"]]:
        """Foreign keys of tables (this one included) that point at this one."""
        out = []
        for child_name, con_name in sorted(self.referenced_by):
            child = catalog.relations.get(child_name)
            con = child.constraints.get(con_name) if child else None
            if con is None or con.kind != "f" or con.references != self.name:
                self.changeable("referenced_by").discard((child_name, con_name))
                continue
            out.append((child, con))
        return out

    def not_null_proven(self, column: str) -> bool:
        """A validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan (PostgreSQL 12+)."""
        return any(c.kind == "c" and c.validated and c.not_null_of == column for c in self.constraints.values())


@dataclass
class EnumType:
    name: str
    values: list[str] = field(default_factory=list)
    created_in: str | None = None


@dataclass
class Domain:
    name: str  # qualified
    base: TypeSpec
    constrained: bool = False  # CHECK or NOT NULL: every value is checked against it

    def tables_using(self, catalog: "Catalog") -> list[str]:
        return [r.name for r in catalog.relations.values() if r.is_table
                and any(c.type.name == self.name for c in r.columns.values())]


@dataclass
class Routine:
    """A function or procedure the history created, with the body PostgreSQL runs when it is
    called (migrasafe/routines.py reads it)."""
    name: str  # qualified
    language: str  # plpgsql or sql
    source: str  # the CREATE statement, as pglast prints it: the body and the parameters it names
    procedure: bool = False
    trigger: bool = False  # RETURNS trigger: only a trigger runs it
    path: str | None = None  # the migration file it was created in, and the line its body starts on
    body_line: int | None = None


@dataclass
class Catalog:
    relations: dict[str, Relation] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    types: dict[str, EnumType] = field(default_factory=dict)
    domains: dict[str, "Domain"] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)  # name → volatility (i, s, v)
    routines: dict[str, Routine] = field(default_factory=dict)  # qualified name → its body
    schemas: set[str] = field(default_factory=lambda: {"public"})
    search_path: list[str] = field(default_factory=lambda: ["public"])
    migration: str | None = None  # key of the migration being replayed now
    # Relations the history dropped (or renamed away) and did not create again: absent, not
    # unknown, so `ALTER TABLE IF EXISTS` on one is a no-op.
    dropped: set[str] = field(default_factory=set)

    def copy(self) -> "Catalog":
        return copy.deepcopy(self)

    def qualify(self, schema: str | None, name: str) -> str:
        """Resolve a possibly unqualified name the way search_path would."""
        if schema:
            return f"{schema}.{name}"
        # pg_catalog is searched first unless the path names it (then in the path's order).
        relations, path = self.relations, self.search_path
        if "pg_catalog" not in path:
            qualified = f"pg_catalog.{name}"
            if name in PG_CATALOG_RELATIONS or qualified in relations:
                return qualified
        for s in path:
            qualified = f"{s}.{name}"
            if s == "pg_catalog" and name in PG_CATALOG_RELATIONS or qualified in relations:
                return qualified
        first = next((s for s in self.search_path if s not in ("$user", "pg_temp", "pg_catalog")), "public")
        return f"{first}.{name}"

    def qualify_type(self, schema: str | None, name: str) -> str:
        """An enum type's qualified name: its schema, else the first of the search_path that holds
        one of that name, else the first of the search_path."""
        if schema:
            return f"{schema}.{name}"
        for s in self.search_path:
            if f"{s}.{name}" in self.types:
                return f"{s}.{name}"
        return f"{self.search_path[0]}.{name}"

    def qualify_index(self, schema: str | None, name: str) -> str:
        if schema:
            return f"{schema}.{name}"
        for s in self.search_path:
            if f"{s}.{name}" in self.indexes:
                return f"{s}.{name}"
        return self.qualify(None, name)

    def index_in_place_of_table(self, schema: str | None, name: str) -> str | None:
        """The qualified index a relation name means when no table, view or sequence has it:
        ALTER TABLE (its RENAME, SET TABLESPACE, ...) accepts an index as well."""
        if self.qualify(schema, name) in self.relations:
            return None
        index = self.qualify_index(schema, name)
        return index if index in self.indexes else None

    def get(self, name: str) -> Relation | None:
        return self.relations.get(name)

    def is_live(self, name: str) -> bool:
        """Live: existed before this migration, so it holds rows and serves traffic.

        A relation the history never created is assumed live: it came from somewhere. The system
        catalogs are not user tables, and a relation the history dropped is not there.
        """
        rel = self.relations.get(name)
        if rel is None:
            return not is_system(name) and name not in self.dropped
        return rel.created_in is None or rel.created_in != self.migration

    def index_is_live(self, name: str) -> bool:
        """An index whose locks other sessions meet: on a live table, made before this migration.
        One the history never made is assumed live, as a relation is."""
        idx = self.indexes.get(name)
        if idx is None:
            return not is_system(name)
        return (idx.created_in is None or idx.created_in != self.migration) and self.is_live(idx.table)

    def is_new(self, name: str) -> bool:
        return not self.is_live(name)

    def column_is_new(self, table: str, column: str) -> bool:
        """Added by this migration: the application version still running has never used it."""
        rel = self.relations.get(table)
        col = rel.columns.get(column) if rel is not None else None
        return col is not None and col.added_in is not None and col.added_in == self.migration

    def inheritors(self, name: str) -> list[str]:
        """The relation and everything that inherits from it, partitions and inheritance
        children alike, recursively: what PostgreSQL's find_all_inheritors() returns."""
        out, pending = [], [name]
        while pending:
            current = pending.pop(0)
            if current in out:
                continue
            out.append(current)
            rel = self.relations.get(current)
            pending.extend(rel.partitions if rel else ())
            pending.extend(self.inheritance_children(current))
        return out

    def inheritance_children(self, name: str) -> list[str]:
        """The relations that INHERITS from `name` directly, in the catalog's order."""
        if not self._may_inherit():
            return []
        return [r.name for r in self.relations.values() if name in r.inherits]

    def note_inheritance(self) -> None:
        """Called when a relation is given parents: lookups scan the relations from then on."""
        self.__dict__["_inheritance_seen"] = True

    def _may_inherit(self) -> bool:
        # Most histories never use INHERITS: knowing that spares a scan of every relation for
        # every statement (quadratic on a file that creates thousands of tables). The flag is
        # not a dataclass field, so a catalog the cache decoded finds it by scanning once;
        # `inherits` is only ever given at CREATE TABLE (note_inheritance).
        seen = self.__dict__.get("_inheritance_seen")
        if seen is None:
            seen = any(r.inherits for r in self.relations.values())
            self.__dict__["_inheritance_seen"] = seen
        return seen

    def views_on_column(self, table: str, column: str) -> list[str]:
        """The views and matviews DROP COLUMN ... CASCADE drops with the column: those using it,
        then those built on them."""
        out = [r.name for r in self.relations.values() if r.kind in ("view", "matview") and table in r.depends_on
               and (r.depends_on_columns is None or column in r.depends_on_columns.get(table, ()))]
        pending = list(out)
        while pending:
            current = pending.pop(0)
            for r in self.relations.values():
                if r.kind in ("view", "matview") and current in r.depends_on and r.name not in out:
                    out.append(r.name)
                    pending.append(r.name)
        return out

    def family(self, name: str) -> list[str]:
        """The relation and all its partitions, recursively."""
        out = [name]
        rel = self.relations.get(name)
        for child in rel.partitions if rel else ():
            out.extend(self.family(child))
        return out
