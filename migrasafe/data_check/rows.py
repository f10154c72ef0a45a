"""The rows a statement will meet: the database's rows as the run's earlier statements leave them.

A migration seldom runs SET NOT NULL on the rows as they are: it backfills first. So each table
the run touches is read through a stack of subqueries, one per earlier statement of the run:
an UPDATE becomes `CASE WHEN <its WHERE> THEN <new value> ELSE <column> END`, a DELETE a
filter, ADD COLUMN its default, RENAME COLUMN an alias, ALTER COLUMN TYPE the cast. Nothing is
written: the probes read the database's rows through this view. Changes that cannot be written
as a view (an UPDATE ... FROM, MERGE, COPY, the statements of a DO block) are remembered by
line, and a prediction over those rows is only an info finding.

Every layer carries the row's primary key as the database holds it now, so an offending row is
named by the key that finds it in the database today.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast
from pglast.enums.parsenodes import ConstrType as CT

from ..plan.sql import ident
from ..rules.base import expression
from .sampling import SEED
from .session import TableInfo

KEY_PREFIX = "migrasafe.key"


@dataclass
class Layer:
    alias: str
    columns: list[tuple[str, str]]  # (name, SQL over the layer below)
    where: str | None = None


@dataclass
class Rows:
    """One table of the database, as the run has changed it so far."""

    info: TableInfo
    alias: str  # the table's name without its schema, as statements' expressions qualify columns
    types: dict[str, str | None]  # current column → type as SQL (None: a type the database lacks)
    layers: list[Layer] = field(default_factory=list)
    empty: bool = False  # TRUNCATE or DELETE without WHERE earlier in the run
    inserted: list[int] = field(default_factory=list)  # lines adding rows the view does not show
    unmodelled: list[int] = field(default_factory=list)  # lines changing rows in a way not shown
    # Columns whose values the view cannot show (converted to a type the database lacks, say).
    opaque: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, info: TableInfo) -> "Rows":
        return cls(info, info.name.partition(".")[2], {c.name: c.type for c in info.columns.values()})

    @property
    def key_names(self) -> list[str]:
        # No primary key: the ctid names the row, with the partition or child table holding it.
        count = len(self.info.key) or 2
        return [f"{KEY_PREFIX}{i + 1}" for i in range(count)]

    @property
    def key_types(self) -> list[str]:
        return [c.type for c in self.info.key] or ["tid", "text"]

    def key_sql(self, alias: str = "") -> list[str]:
        prefix = f"{ident(alias)}." if alias else ""
        return [prefix + ident(name) for name in self.key_names]

    def source(self, sample_percent: float | None = None, alias: str | None = None) -> str:
        """A FROM item of the rows, aliased as the table (or `alias`): the base table, sampled
        when asked, under every layer."""
        base_alias = ident(self.alias)
        if self.info.key:
            keys = [f"{base_alias}.{ident(c.name)} AS {ident(k)}" for c, k in zip(self.info.key, self.key_names)]
        else:
            keys = [f"{base_alias}.ctid AS {ident(self.key_names[0])}",
                    f"{base_alias}.tableoid::regclass::text AS {ident(self.key_names[1])}"]
        columns = [f"{base_alias}.{ident(c)}" for c in self.info.columns]
        sample = f" TABLESAMPLE SYSTEM ({sample_percent:g}) REPEATABLE ({SEED})" if sample_percent else ""
        text = f"SELECT {', '.join(keys + columns)} FROM {self.info.sql_name} AS {base_alias}{sample}"
        for layer in self.layers:
            below = ident(layer.alias)
            parts = [f"{below}.{ident(k)}" for k in self.key_names]
            parts += [f"{sql} AS {ident(name)}" for name, sql in layer.columns]
            where = f" WHERE {layer.where}" if layer.where else ""
            text = f"SELECT {', '.join(parts)} FROM ({text}) AS {below}{where}"
        return f"({text}) AS {ident(alias or self.alias)}"

    def key_text(self, values) -> str:
        """How a finding names a row: `id = 42`, `(a, b) = (1, x)`, `ctid (0,3)`, `ctid (0,3)
        in logs_2024` (a partition's row)."""
        if not self.info.key:
            held_by = values[1] if len(values) > 1 else None
            elsewhere = held_by not in (None, self.info.name, self.info.name.partition(".")[2])
            return f"ctid {values[0]}" + (f" in {held_by}" if elsewhere else "")
        names = [c.name for c in self.info.key]
        shown = [short(v) for v in values]
        if len(names) == 1:
            return f"{names[0]} = {shown[0]}"
        return f"({', '.join(names)}) = ({', '.join(shown)})"

    # -- changes the run makes ----------------------------------------------------------------

    def _layer(self, alias: str | None = None, replace: dict[str, str] | None = None,
               drop: str | None = None, add: tuple[str, str] | None = None, where: str | None = None) -> None:
        replace = replace or {}
        columns = [(name, replace.get(name, ident(name))) for name in self.types if name != drop]
        if add is not None:
            columns.append(add)
        self.layers.append(Layer(alias or self.alias, columns, where))

    def update(self, node: ast.UpdateStmt, line: int) -> None:
        targets = node.targetList or ()
        simple = (not node.fromClause and not node.withClause and not isinstance(node.whereClause, ast.CurrentOfExpr)
                  and all(isinstance(t, ast.ResTarget) and t.name in self.types and not t.indirection
                          and not isinstance(t.val, (ast.MultiAssignRef, ast.SetToDefault)) for t in targets))
        if not simple:
            self.unmodelled.append(line)
            return
        alias = node.relation.alias.aliasname if node.relation.alias else self.alias
        where = expression(node.whereClause) if node.whereClause is not None else None
        replace = {}
        for target in targets:
            value = expression(target.val)
            kind = self.types.get(target.name)
            if kind:
                value = f"({value})::{kind}"
            replace[target.name] = f"CASE WHEN {where} THEN {value} ELSE {ident(target.name)} END" if where else value
        self._layer(alias, replace)

    def delete(self, node: ast.DeleteStmt, line: int) -> None:
        if node.usingClause or node.withClause or isinstance(node.whereClause, ast.CurrentOfExpr):
            self.unmodelled.append(line)
            return
        if node.whereClause is None:
            self.empty = True
            return
        alias = node.relation.alias.aliasname if node.relation.alias else self.alias
        self._layer(alias, where=f"({expression(node.whereClause)}) IS NOT TRUE")

    def rename_column(self, old: str, new: str) -> None:
        if old not in self.types:
            return
        self.layers.append(Layer(self.alias, [(new if name == old else name, ident(name)) for name in self.types]))
        self.types = {(new if name == old else name): kind for name, kind in self.types.items()}
        if old in self.opaque:
            self.opaque = (self.opaque - {old}) | {new}

    def drop_column(self, name: str) -> None:
        if name in self.types:
            self._layer(drop=name)
            del self.types[name]
            self.opaque.discard(name)

    def add_column(self, coldef: ast.ColumnDef, kind: str | None) -> None:
        """A column the run adds: its default (or NULL) in every existing row; a serial or
        identity column numbers the rows; a stored generated column computes its expression."""
        name = coldef.colname
        value = "NULL"
        for con in coldef.constraints or ():
            if con.contype == CT.CONSTR_DEFAULT and con.raw_expr is not None:
                value = f"({expression(con.raw_expr)})"
            elif con.contype == CT.CONSTR_IDENTITY:
                value = "row_number() OVER ()"
            elif con.contype == CT.CONSTR_GENERATED and con.raw_expr is not None:
                value = f"({expression(con.raw_expr)})"
        if serial_type(coldef) is not None:
            value = "row_number() OVER ()"
        if kind is None:
            self.opaque.add(name)
            value = "NULL"
        else:
            value = f"{value}::{kind}"
        self._layer(add=(name, value))
        self.types[name] = kind

    def change_type(self, name: str, converted: str | None, kind: str | None) -> None:
        """After ALTER COLUMN TYPE: the converted values, or opaque ones when the view cannot
        compute them."""
        if name not in self.types:
            return
        if converted is None:
            self.opaque.add(name)
            converted = ident(name)
        else:
            self.opaque.discard(name)
        self._layer(replace={name: converted})
        self.types[name] = kind


def serial_type(coldef: ast.ColumnDef) -> str | None:
    names = [getattr(n, "sval", "") for n in coldef.typeName.names or ()] if coldef.typeName is not None else []
    last = names[-1].lower() if names else ""
    return {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
            "smallserial": "smallint", "serial2": "smallint"}.get(last)


def short(value, limit: int = 60) -> str:
    """A value as a finding shows it: text quoted as SQL writes it, cut when long."""
    from ..plan.sql import literal

    if value is None:
        return "NULL"
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return literal(text) if isinstance(value, str) else text
