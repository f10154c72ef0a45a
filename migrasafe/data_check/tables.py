"""Which table of the database a statement's table name means, as the run goes on.

The run renames, creates and drops tables: a name in a statement is a table of the database
(read through its rows view), a table the run made (nothing to probe: it holds only what the
run put there), gone, or absent from the database altogether (the database is behind the
migrations before the ones checked, or is another database).
"""
from __future__ import annotations

from pglast import ast
from pglast.enums.parsenodes import ObjectType as OT

from .rows import Rows
from .session import Session


class Made:
    """A table the run created: its rows are the run's own."""

    def __init__(self) -> None:
        self.inserted: list[int] = []


GONE = "gone"  # dropped or renamed away by the run
ABSENT = "absent"  # not in the database and not made by the run


class Tables:
    def __init__(self, session: Session):
        self.session = session
        self.known: dict[str, object] = {}
        self.absent_reported: set[str] = set()
        # Lines that may change the rows of any table: SQL built at run time (EXECUTE in a DO
        # block), a procedure or function of the migrations' own.
        self.anywhere: list[int] = []

    def get(self, name: str):
        """Rows, a Made, GONE or ABSENT."""
        if name not in self.known:
            info = self.session.table(name)
            found = Rows.of(info) if info is not None else ABSENT
            if isinstance(found, Rows):
                found.unmodelled.extend(self.anywhere)
            self.known[name] = found
        return self.known[name]

    def changed_anywhere(self, line: int) -> None:
        self.anywhere.append(line)
        for found in self.known.values():
            if isinstance(found, Rows):
                found.unmodelled.append(line)

    def rows(self, name: str) -> Rows | None:
        found = self.get(name)
        return found if isinstance(found, Rows) else None

    def made(self, name: str) -> None:
        self.known[name] = Made()

    def moved(self, old: str, new: str) -> None:
        found = self.get(old)
        self.known[new] = found
        self.known[old] = GONE
        if isinstance(found, Rows):
            found.alias = new.partition(".")[2]

    def dropped(self, name: str) -> None:
        self.known[name] = GONE

    # -- statements that change rows -------------------------------------------------------

    def change_rows(self, node, line: int, qualify, in_block: bool = False) -> None:
        """Follow a data change into the rows view of its table. In a DO block only the fact is
        kept: its statements may read PL/pgSQL variables and run in loops."""
        if isinstance(node, ast.TruncateStmt):
            for rv in node.relations or ():
                found = self.get(qualify(rv))
                if isinstance(found, Rows):
                    found.empty = True
            return
        relation = getattr(node, "relation", None)
        if not isinstance(relation, ast.RangeVar):
            return
        found = self.get(qualify(relation))
        if isinstance(found, Made):
            if isinstance(node, (ast.InsertStmt, ast.MergeStmt)) or (isinstance(node, ast.CopyStmt) and node.is_from):
                found.inserted.append(line)
            return
        if not isinstance(found, Rows):
            return
        if isinstance(node, ast.InsertStmt) or (isinstance(node, ast.CopyStmt) and node.is_from):
            found.inserted.append(line)
        elif in_block or isinstance(node, ast.MergeStmt):
            if isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)):
                found.unmodelled.append(line)
        elif isinstance(node, ast.UpdateStmt):
            found.update(node, line)
        elif isinstance(node, ast.DeleteStmt):
            found.delete(node, line)

    def follow_ddl(self, node, qualify) -> None:
        """Creations, renames and drops of tables, and renames of columns."""
        if isinstance(node, (ast.CreateStmt, ast.CreateForeignTableStmt)):
            self.made(qualify(node.relation))
        elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
            self.made(qualify(node.into.rel))
        elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
            self.made(qualify(node.intoClause.rel))
        elif isinstance(node, ast.RenameStmt) and node.relation is not None:
            old = qualify(node.relation)
            if node.renameType in (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE):
                self.moved(old, f"{old.partition('.')[0]}.{node.newname}")
            elif node.renameType == OT.OBJECT_COLUMN:
                rows = self.rows(old)
                if rows is not None:
                    rows.rename_column(node.subname, node.newname)
        elif isinstance(node, ast.AlterObjectSchemaStmt) and node.relation is not None \
                and node.objectType in (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE):
            old = qualify(node.relation)
            self.moved(old, f"{node.newschema}.{old.partition('.')[2]}")
        elif isinstance(node, ast.DropStmt) and node.removeType in (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE):
            for names in node.objects or ():
                parts = [getattr(n, "sval", "") for n in names]
                rv = ast.RangeVar(schemaname=parts[-2] if len(parts) > 1 else None, relname=parts[-1])
                self.dropped(qualify(rv))
