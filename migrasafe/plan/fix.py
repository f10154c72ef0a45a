"""`migrasafe fix`: rewrite the findings that have exactly one safe form.

* CREATE INDEX / DROP INDEX on a live table gets CONCURRENTLY, and leaves the transaction: in
  place when the file already runs outside one (or can be told to, for a file holding only
  that statement), otherwise in a new migration right after the file (after the COMMIT of its
  block, for plain SQL).
* ADD CONSTRAINT ... FOREIGN KEY / CHECK gets NOT VALID, and a VALIDATE CONSTRAINT in a
  separate transaction: the next statement in an autocommit plain SQL file, otherwise a new
  migration right after the file.
* A statement taking a blocking lock with no lock_timeout gets `SET lock_timeout` before it.

Edits are splices into the file's own text: every byte outside the replaced spans stays as it
was (line endings and a byte order mark included). A finding that cannot be fixed this way is
left alone with a note saying why.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pglast import ast, parser
from pglast.enums.parsenodes import ConstrType as CT

from ..config import Config
from ..model import AnalysedStatement, MigrationResult
from ..rules.base import keyword_span
from ..sources.versions import flyway_version_key
from .errors import PlanError
from .files import create_file, replace_file
from .layout import Layout
from .writers import WRITERS, NewMigration
from .sql import ident, literal, qualified, slug

BOM = "\ufeff"
# Formats with one folder per migration: the history is the folder above the file.
FOLDER_PER_MIGRATION = ("diesel", "prisma")
_GRAPHILE_NOTE = {
    False: "a committed graphile-migrate migration is never edited (its Hash covers the body); make the change "
           "in current.sql and commit it",
    True: "graphile-migrate commits current.sql as one migration; a statement that cannot run in a transaction "
          "needs a migration of its own: commit the rest first, then put it alone in current.sql below a first "
          "line '--! no-transaction'",
}


@dataclass
class Edit:
    start: int  # character offsets into the file's text (after any byte order mark)
    end: int
    text: str


@dataclass
class FileChange:
    path: Path
    display: str
    before: str  # "" for a new file
    after: str
    new: bool = False


@dataclass
class Fixes:
    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What check still reports (warnings and errors) on the files once fixed.
    remaining: list[str] = field(default_factory=list)
    # Files whose rewrite failed its own checks: nothing of theirs is written (exit 2).
    refused: list[str] = field(default_factory=list)


def plan_fixes(paths: list[str], config: Config, lock_timeout: str = "2s") -> Fixes:
    from ..check import run
    from ..transaction import parse_duration_ms

    if not parse_duration_ms(lock_timeout):
        raise PlanError(f"--lock-timeout {lock_timeout!r} is not a duration such as 2s or 500ms")
    for given in paths:
        if not Path(given).is_file():
            raise PlanError(f"{given}: no such file (fix rewrites migration files, not folders)")
    report = run(paths, config)
    broken = [f for f in report.findings if f.rule == "MS099"]
    if broken:
        raise PlanError(f"{broken[0].path}: {broken[0].message}")
    fixes = Fixes()
    named = {str(Path(p).resolve()) for p in paths}
    results = [r for r in report.results if not r.migration.meta.get("context")]
    roots: dict[str, Path] = {}
    for result in results:
        file = result.migration.meta.get("file")
        if file not in named:
            continue
        if result.migration.broken:
            fixes.notes.append(f"{result.migration.path}: not fixed: it does not parse")
            continue
        if result.migration.format == "alembic":
            fixes.notes.append(f"{result.migration.path}: Alembic revisions are Python; fix rewrites SQL files")
            continue
        if result.migration.format == "graphile-migrate":
            fixes.notes.append(f"{result.migration.path}: not fixed: {_GRAPHILE_NOTE[result.migration.kind == 'current']}")
            continue
        if result.migration.format == "liquibase":
            _fix_changeset(result, lock_timeout, fixes)
        else:
            FileFixer(result, lock_timeout, fixes).run()
        path = Path(file)
        roots[file] = path.parent.parent if result.migration.format in FOLDER_PER_MIGRATION else path.parent
        if result.migration.format in ("sqitch", "liquibase"):  # the project: its plan or master changelog
            roots[file] = Path(result.migration.meta["history"])
    if fixes.changes:
        fixes.remaining = recheck(fixes, roots, config)
    return fixes


def _fix_changeset(result: MigrationResult, lock_timeout: str, fixes: Fixes) -> None:
    """A Liquibase file holds several changesets, each fixed on its own: one run rewrites a file
    for one of them, so that no two rewrites of the same text overwrite each other."""
    own = Fixes()
    FileFixer(result, lock_timeout, own).run()
    edited = {c.path for c in fixes.changes if not c.new}
    if any(c.path in edited for c in own.changes if not c.new):
        fixes.notes.append(f"{result.migration.path}: changeset {result.migration.version} not fixed in this run: "
                           "another changeset of the file was; run fix again once these changes are written")
        return
    fixes.changes += own.changes
    fixes.notes += own.notes
    fixes.refused += own.refused


def recheck(fixes: Fixes, roots: dict[str, Path], config: Config) -> list[str]:
    """What `migrasafe check` still reports on the fixed and new files, found in a copy."""
    import dataclasses
    import shutil
    import tempfile

    from ..check import run

    with tempfile.TemporaryDirectory(prefix="migrasafe-fix-") as scratch:
        copies: dict[Path, Path] = {}
        for number, root in enumerate(sorted(set(roots.values()))):
            copy = Path(scratch) / str(number) / root.name
            shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(".git", "node_modules"))
            copies[root] = copy.resolve()

        def mapped(path: Path) -> Path | None:
            for root, copy in copies.items():
                try:
                    return copy / path.resolve().relative_to(root.resolve())
                except ValueError:
                    continue
            return None

        touched = {}
        for change in fixes.changes:
            target = mapped(change.path)
            if target is None:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(change.after.encode("utf-8"))
            touched[str(target)] = change.display
        named = [str(mapped(Path(file))) for file in roots]
        report = run(named, dataclasses.replace(config, baseline=None))
        out = []
        for result in report.results:
            display = touched.get(result.migration.meta.get("file", ""))
            if display is None:
                continue
            for finding in result.all_findings():
                if finding.severity != "info":
                    out.append(f"{display}:{finding.line}: {finding.rule} {finding.message}")
        return out


class FileFixer:
    def __init__(self, result: MigrationResult, lock_timeout: str, fixes: Fixes):
        self.result = result
        self.migration = result.migration
        self.timeout = lock_timeout
        self.fixes = fixes
        self.path = Path(self.migration.meta["file"])
        raw = self.path.read_bytes()
        text = raw.decode("utf-8")
        self.bom = BOM if text.startswith(BOM) else ""
        self.text = text[len(self.bom):]
        self.newline = "\r\n" if "\r\n" in self.text else "\n"
        self.starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        self.edits: list[Edit] = []
        self.new_statements: list[tuple[str, str, list[str], bool]] = []  # (description, sql, down, transactional)
        self.handled: set[int] = set()  # statement indexes whose lock is taken care of
        # Where the edits may fall: the statements being fixed, each with its line and its
        # semicolon, and the header lines a fix changes; anything else is left as it was.
        self.regions: list[tuple[int, int]] = []
        self.first_change = len(fixes.changes)  # this file's changes are the ones after it
        # The layout whose rules a fix keeps to: an Atlas directory in another tool's format is that tool's.
        self.layout_format = self.migration.format
        if self.layout_format == "atlas":
            from ..sources.atlas import layout_format

            self.layout_format = layout_format(self.path)
        elif self.layout_format == "versioned-folders":  # plain SQL files, in release folders
            self.layout_format = "sql"

    # Locating statements in the file ----------------------------------------------------------

    def span(self, analysed: AnalysedStatement) -> tuple[int, int] | None:
        stmt = analysed.statement
        if stmt.line - 1 >= len(self.starts):
            return None
        start = self.starts[stmt.line - 1] + stmt.column - 1
        end = start + len(stmt.sql)
        if self.text[start:end] != stmt.sql:
            return None  # the analysed text differs from the file here (a substituted placeholder)
        return start, end

    def statement_end(self, end: int) -> int:
        """Past the statement's semicolon, when it has one right after it."""
        rest = self.text[end:]
        stripped = len(rest) - len(rest.lstrip(" \t"))
        if rest[stripped:stripped + 1] == ";":
            return end + stripped + 1
        return end

    def terminator_end(self, end: int) -> int | None:
        """Past the semicolon that ends the statement ending at `end`, which may come after
        blanks, line breaks and comments; None when the statement has none (the file's last)."""
        window = 4096
        while True:
            piece = self.text[end:end + window]
            whole = end + window >= len(self.text)
            try:
                tokens = [t for t in parser.scan(piece) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
            except parser.ParseError:
                tokens = None  # cut inside a comment or a quote: look further
            if tokens is not None and (tokens or whole):
                if tokens and tokens[0].name == "ASCII_59":  # ";"
                    return end + tokens[0].end + 1
                return None
            if whole:
                return None
            window *= 4

    def insert_after(self, start: int, end: int, sql: str) -> None:
        """Put the statement `sql` (with its semicolon) after the one at [start, end), giving
        that one the semicolon it lacks, after its last token rather than in a comment."""
        at = self.terminator_end(end)
        if at is None:
            last = start + _last_token_end(self.text[start:end])
            self.edits.append(Edit(last, last, ";"))
            at = end
        self.edits.append(Edit(at, at, self.newline + sql))
        self.allow(start, at)

    def allow(self, start: int, end: int) -> None:
        """Let edits fall in [start, end), widened to the whole lines it covers."""
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", end)
        self.regions.append((line_start, len(self.text) if line_end < 0 else line_end + 1))

    def line_end(self, offset: int) -> int:
        """Past the newline ending the line that `offset` is on (only blanks before it)."""
        rest = self.text[offset:]
        match = re.match(r"[ \t]*(\r?\n|$)", rest)
        return offset + match.end() if match else offset

    def note(self, analysed: AnalysedStatement, message: str) -> None:
        self.fixes.notes.append(f"{self.migration.path}:{analysed.statement.line}: not fixed: {message}")

    # The fixes --------------------------------------------------------------------------------

    def run(self) -> None:
        for analysed in self.result.statements:
            rules = {f.rule for f in analysed.findings}
            if isinstance(analysed.statement.node, ast.DoStmt):
                if rules & {"MS001", "MS002", "MS020", "MS021"}:
                    self.note(analysed, "the statement is inside a DO block; move it out of the block first")
                continue
            if rules & {"MS001", "MS002"}:
                self.concurrently(analysed)
            if rules & {"MS020", "MS021"}:
                self.not_valid(analysed)
        for analysed in self.result.statements:
            if analysed.statement.index in self.handled:
                continue
            if any(f.rule == "MS032" for f in analysed.findings + analysed.folded):
                self.lock_timeout(analysed)
                break  # a session setting: one SET covers the statements after it
        self.finish()

    def concurrently(self, analysed: AnalysedStatement) -> None:
        node = analysed.statement.node
        writer = WRITERS.get(self.layout_format)
        if analysed.in_transaction and writer is not None and writer.never_outside:
            return self.note(analysed, writer.never_outside)
        if isinstance(node, ast.DropStmt) and len(node.objects or ()) != 1:
            return self.note(analysed, "DROP INDEX CONCURRENTLY drops one index at a time; split the statement")
        if analysed.impact.notes.get("unsupported"):
            return None
        where = self.span(analysed)
        if where is None:
            return self.note(analysed, "its text in the file differs from what runs (placeholders)")
        span = keyword_span(analysed.statement.sql, "INDEX")
        keyword = span[1] if span else None
        if keyword is None:
            return self.note(analysed, "could not find the INDEX keyword")
        if any(f.rule in ("MS001", "MS002") and "partitioned" in f.fix for f in analysed.findings):
            return self.note(analysed, "CONCURRENTLY is not supported on a partitioned table")
        start, end = where
        concurrent_sql = (analysed.statement.sql[:keyword] + " CONCURRENTLY" + analysed.statement.sql[keyword:])
        outside = self.outside_transaction(analysed)
        self.allow(start, self.statement_end(end))
        if outside == "in place":
            self.edits.append(Edit(start + keyword, start + keyword, " CONCURRENTLY"))
        elif outside == "after commit":
            commit = self.commit_after(analysed)
            if commit is None:
                return self.note(analysed, "its transaction block has no COMMIT in this file")
            self.remove(start, end)
            self.insert_after(*commit, concurrent_sql + ";")
        elif outside == "alone":
            if not self.run_outside_transaction(analysed):
                return None
            self.edits.append(Edit(start + keyword, start + keyword, " CONCURRENTLY"))
        else:
            down = []
            if isinstance(node, ast.IndexStmt) and node.idxname:
                table = node.relation
                schema = table.schemaname or "public"
                down = [f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(schema + '.' + node.idxname)}"]
            name = node.idxname if isinstance(node, ast.IndexStmt) and node.idxname else "index"
            self.remove(start, end)
            self.new_statements.append((f"{name}_concurrently", concurrent_sql, down, False))
        self.handled.add(analysed.statement.index)
        return None

    def outside_transaction(self, analysed: AnalysedStatement) -> str:
        """How this statement gets out of its transaction: "in place", "after commit", "alone",
        or "new file"."""
        migration = self.migration
        if not analysed.in_transaction:
            return "in place"
        others = [s for s in self.result.statements if s is not analysed]
        if self.layout_format == "sql":
            return "after commit"
        writer = WRITERS.get(self.layout_format)
        if not others and (migration.format == "popx" or (writer is not None and writer.opt_out is not None)):
            return "alone"
        return "new file"

    def commit_after(self, analysed: AnalysedStatement) -> tuple[int, int] | None:
        """Where the COMMIT closing this statement's transaction block is in the file."""
        from pglast.enums.parsenodes import TransactionStmtKind as TK

        for later in self.result.statements[analysed.statement.index + 1:]:
            node = later.statement.node
            if isinstance(node, ast.TransactionStmt) and node.kind == TK.TRANS_STMT_COMMIT:
                return self.span(later)
        return None

    def remove(self, start: int, end: int) -> None:
        """Remove a statement, its semicolon and, when it stood on its own lines, its line break."""
        end = self.statement_end(end)
        line_start = self.text.rfind("\n", 0, start) + 1
        if not self.text[line_start:start].strip():
            after = self.line_end(end)
            if after > end and (after == len(self.text) or self.text[end:after].strip() == ""):
                start, end = line_start, after
        self.edits.append(Edit(start, end, ""))

    def run_outside_transaction(self, analysed: AnalysedStatement) -> bool:
        """Tell the runner to leave a one-statement file outside a transaction."""
        fmt = self.layout_format
        if fmt == "popx":
            self.note(analysed, "popx needs the file renamed to .autocommit.up.sql; rename it by hand")
            return False
        return WRITERS[fmt].opt_out(self, analysed)

    def diesel_metadata(self, transactional: bool) -> None:
        meta = self.path.parent / "metadata.toml"
        value = "true" if transactional else "false"
        if meta.exists():
            text = meta.read_bytes().decode("utf-8")
            match = re.search(r"^run_in_transaction\s*=\s*\S+", text, re.M)
            if match:
                after = text[: match.start()] + f"run_in_transaction = {value}" + text[match.end():]
            else:
                newline = "\r\n" if "\r\n" in text else "\n"
                after = text + ("" if text.endswith("\n") or not text else newline) + f"run_in_transaction = {value}{newline}"
            if after != text:
                self.fixes.changes.append(FileChange(meta, _display(self.migration.path, meta), text, after))
        else:
            self.fixes.changes.append(FileChange(meta, _display(self.migration.path, meta), "",
                                                 f"run_in_transaction = {value}\n", new=True))

    def not_valid(self, analysed: AnalysedStatement) -> None:
        node = analysed.statement.node
        cmds = list(node.cmds or ())
        if len(cmds) != 1:
            return self.note(analysed, "the ALTER TABLE has several subcommands; give the constraint its own "
                                       "ALTER TABLE first")
        if not isinstance(cmds[0].def_, ast.Constraint):
            return self.note(analysed, "the constraint is written inside ADD COLUMN; add the column, then the "
                                       "constraint NOT VALID in an ALTER TABLE of its own (the finding's fix)")
        where = self.span(analysed)
        if where is None:
            return self.note(analysed, "its text in the file differs from what runs (placeholders)")
        start, end = where
        sql = analysed.statement.sql
        try:
            alone = parser.parse_sql(sql)[0].stmt
        except parser.ParseError:
            return self.note(analysed, "could not be parsed on its own")
        con = alone.cmds[0].def_
        table = self._table(node)
        name = con.conname or self._constraint_name(table, con)
        if name is None:
            return self.note(analysed, "could not name the constraint; name it with CONSTRAINT <name>")
        validate = f"ALTER TABLE {qualified(table)} VALIDATE CONSTRAINT {ident(name)}"
        placement = "after statement" if not analysed.in_transaction else (
            "after commit" if self.layout_format == "sql" else "new file")
        if placement == "after commit" and self.commit_after(analysed) is None:
            return self.note(analysed, "its transaction block has no COMMIT in this file")
        self.allow(start, end)
        if not con.conname:
            self.edits.append(Edit(start + con.location, start + con.location, f"CONSTRAINT {ident(name)} "))
        last = _last_token_end(sql)
        self.edits.append(Edit(start + last, start + last, " NOT VALID"))
        if placement == "after statement":
            self.insert_after(start, end, validate + ";")
        elif placement == "after commit":
            self.insert_after(*self.commit_after(analysed), validate + ";")
        else:
            self.new_statements.append((f"validate_{name}", validate, [], True))
        return None

    def _table(self, node) -> str:
        rv = node.relation
        return f"{rv.schemaname or 'public'}.{rv.relname}"

    def _constraint_name(self, table: str, con) -> str | None:
        """The name PostgreSQL gives an unnamed constraint, read from the schema the check built."""
        if con.contype == CT.CONSTR_FOREIGN:
            columns = [c.sval for c in con.fk_attrs or ()]
            return f"{table.split('.')[1]}_{'_'.join(columns)}_fkey" if columns else None
        if con.contype == CT.CONSTR_CHECK:
            from .expressions import column_refs

            columns = sorted(column_refs(con.raw_expr))
            # PostgreSQL names it after the first column the expression reads, in its own order;
            # an explicit name is the only reliable way when there are several.
            if len(columns) == 1:
                return f"{table.split('.')[1]}_{columns[0]}_check"
        return None

    def lock_timeout(self, analysed: AnalysedStatement) -> None:
        where = self.span(analysed)
        if where is None:
            return self.note(analysed, "its text in the file differs from what runs (placeholders)")
        start, end = where
        self.allow(start, end)
        line_start = self.text.rfind("\n", 0, start) + 1
        indent = self.text[line_start:start]
        set_sql = f"SET lock_timeout = {literal(self.timeout)};"
        if indent.strip():
            self.edits.append(Edit(start, start, set_sql + " "))
        else:
            self.edits.append(Edit(start, start, set_sql + self.newline + indent))
        return None

    # Writing ----------------------------------------------------------------------------------

    def finish(self) -> None:
        from .rewrite_check import rewrite_problem

        first = self.first_change
        if self.new_statements:
            created = self.new_migration()
            if created is None:
                self.edits.clear()
                return
        if self.edits:
            after = _apply(self.text, self.edits)
            self.fixes.changes.append(
                FileChange(self.path, self.migration.path, self.bom + self.text, self.bom + after))
        problem = rewrite_problem(self.text, self.edits, self.regions, self.fixes.changes[first:])
        if problem:
            # The rewrite of this file and the migrations it would add go together, or not at all.
            del self.fixes.changes[first:]
            self.fixes.refused.append(f"{self.migration.path}: fix refused, nothing written: {problem}")
        elif self.migration.format == "atlas" and len(self.fixes.changes) > first:
            self.atlas_sum(first)

    def atlas_sum(self, first: int) -> None:
        """Atlas refuses a directory whose atlas.sum does not match its files: rewrite it too."""
        from ..sources.atlas.sumfile import SUM, updated_sum

        folder = self.path.parent
        # An earlier file of the same directory may have been fixed: one atlas.sum covers both.
        self.fixes.changes[:] = [c for c in self.fixes.changes if c.path != folder / SUM]
        changed = {c.path.name: c.after.encode("utf-8") for c in self.fixes.changes if c.path.parent == folder}
        sums = updated_sum(folder, changed)
        if sums is not None:
            self.fixes.changes.append(FileChange(folder / SUM, _display(self.migration.path, folder / SUM), *sums))

    def new_migration(self) -> list[FileChange] | None:
        """Files for the new migrations right after this one that hold the moved statements."""
        fmt = self.layout_format
        if fmt == "popx":
            self.fixes.notes.append(f"{self.migration.path}: not fixed: new popx migrations are not written")
            return None
        if fmt in WRITERS and WRITERS[fmt].add_to_history is not None:
            added = WRITERS[fmt].add_to_history(self, _group(self.new_statements))
            self.fixes.changes.extend(added or [])
            return added
        layout = Layout.of(fmt, self.path.parent.parent if fmt in FOLDER_PER_MIGRATION else self.path.parent)
        groups = _group(self.new_statements)
        versions = _versions_between(layout, self.migration.version, self.path, len(groups))
        if versions is None:
            self.fixes.notes.append(
                f"{self.migration.path}: not fixed: no free version between it and the next migration for the "
                f"statements that must leave its transaction; move them to a new migration by hand")
            return None
        if fmt in _DOWN_ANNOTATIONS:
            self.move_down_statements(_annotation_of(fmt))
            groups = _group(self.new_statements)
        changes = []
        for version, (description, statements, down, transactional) in zip(versions, groups):
            base = slug(f"{self.migration.description}_{description}")
            rel = layout.main_file(version, base)
            for rel_path, text in _migration_files(fmt, rel, statements, down, transactional, self.timeout,
                                                   self.migration.path):
                target = layout.root / rel_path
                changes.append(FileChange(target, _display(self.migration.path, target), "", text, new=True))
        self.fixes.changes.extend(changes)
        return changes

    def move_down_statements(self, annotation) -> None:
        """The file's own down part (`-- +goose Down`, `-- +migrate Down`, `-- migrate:down`) must
        no longer undo a statement that moved out: each tool rolls back one migration at a time,
        newest first, by running its down part (pressly/goose down.go: "Down rolls back a single
        migration from the current version"; rubenv/sql-migrate and dbmate's rollback likewise
        apply the newest migration's down part first), so the new migration's down part runs before
        the old one's. The down statement that drops a moved index goes (the new migration's down
        part drops it); the one that creates again an index whose DROP moved goes to the new
        migration's down part, as the sqitch writer does with revert scripts."""
        from ..parse import split_statements
        from ..sources.annotated import split_sections

        sections = split_sections(self.text, annotation, "down")
        if sections.down_line is None:
            return
        down = [s for s in split_statements(sections.forward) if s.node is not None]
        for number, (description, sql, undo, transactional) in enumerate(self.new_statements):
            if transactional:
                continue
            node = split_statements(sql)[0].node
            created = node.idxname if isinstance(node, ast.IndexStmt) and node.idxname else None
            dropped = _dropped_index(node)
            for statement in down:
                other = statement.node
                if created and _dropped_index(other) == created:
                    self._cut_down(statement)
                elif dropped and isinstance(other, ast.IndexStmt) and other.idxname == dropped:
                    self._cut_down(statement)
                    undo = [*undo, statement.sql]
            self.new_statements[number] = (description, sql, undo, transactional)

    def _cut_down(self, statement) -> None:
        start = self.starts[statement.line - 1] + statement.column - 1
        end = start + len(statement.sql)
        self.allow(start, self.statement_end(end))
        self.remove(start, end)


def _dropped_index(node) -> str | None:
    """The name of the one index a DROP INDEX drops, or None."""
    from pglast.enums.parsenodes import ObjectType

    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX and len(node.objects or ()) == 1:
        return node.objects[0][-1].sval
    return None


# The layouts whose files hold their own down part after an annotation line: the reader module
# whose `annotation(line)` tells the parts apart.
_DOWN_ANNOTATIONS = {"goose": "goose", "sql-migrate": "sql_migrate", "dbmate": "dbmate"}


def _annotation_of(fmt: str):
    from importlib import import_module

    return import_module(f"..sources.{_DOWN_ANNOTATIONS[fmt]}", __package__).annotation


def _group(items):
    """Statements that may share one new migration: all transactional ones, or one that is not."""
    transactional = [i for i in items if i[3]]
    outside = [i for i in items if not i[3]]
    groups = []
    if transactional:
        groups.append((transactional[0][0], [i[1] for i in transactional], [], True))
    for item in outside:
        groups.append((item[0], [item[1]], item[2], False))
    return groups


def _migration_files(fmt: str, rel: str, statements: list[str], down: list[str], transactional: bool,
                     timeout: str, source: str) -> list[tuple[str, str]]:
    why = (f"-- Moved out of {Path(source).name} by migrasafe fix: "
           + ("it must run in its own transaction.\n" if transactional else "it cannot run in a transaction block.\n"))
    body = "".join(s + ";\n" for s in ([f"SET lock_timeout = {literal(timeout)}"] if transactional else []) + statements)
    down_text = "".join(s + ";\n" for s in down) or "-- Nothing to revert.\n"
    new = NewMigration(rel=rel, header=why, up=body, down=down_text, transactional=transactional,
                       alone=not transactional, outside_reason="CONCURRENTLY cannot run in a transaction block.")
    return WRITERS[fmt].files(new)


def _versions_between(layout: Layout, version: str, path: Path, count: int) -> list[str] | None:
    """`count` versions after `version` and before the folder's next migration, or None."""
    fmt = layout.format
    resolved = path.resolve()
    entries = layout.entries
    index = next((i for i, e in enumerate(entries) if e.file.resolve() == resolved), None)
    if index is None:
        return None
    following = entries[index + 1] if index + 1 < len(entries) else None
    existing = {e.version for e in entries}
    if layout.taken:
        # Migrations in another language (goose's .go files) share the version sequence: goose
        # refuses two files with one version (a duplicate is "version N is also used by"), and runs
        # every migration in ascending version order, so the next Go migration bounds the new
        # versions as the next SQL one does.
        existing |= set(layout.taken)
        if version.isdigit():
            later = sorted(v for v in layout.taken if v.isdigit() and int(v) > int(version))
            if later and (following is None or int(later[0]) < int(following.version)):
                from ..sources.entries import Entry

                following = Entry(file=path, rel=later[0], version=later[0])
            existing |= {str(int(v)) for v in layout.taken if v.isdigit()}
    out: list[str] = []
    if fmt == "flyway":
        taken = {flyway_version_key(v) for v in existing}
        separator = "_" if "_" in version else "."
        limit = flyway_version_key(following.version) if following is not None else None
        for minor in range(1, 10):
            candidate = f"{version}{separator}{minor}"
            key = flyway_version_key(candidate)
            if key in taken:
                continue
            if limit is not None and key >= limit:
                break
            out.append(candidate)
            if len(out) == count:
                return out
        return None
    current = version
    for _ in range(count):
        candidate = _next_moment(current) if fmt == "diesel" else _plus_one(current)
        if candidate is None or candidate in existing or (layout.taken and str(int(candidate)) in existing):
            return None
        if following is not None:
            # These order numeric versions as numbers (sql-migrate's byId: "10" runs after "3").
            if fmt in ("golang-migrate", "goose", "sql-migrate") and following.version.isdigit():
                if int(candidate) >= int(following.version):
                    return None
            elif candidate.replace("-", "") >= following.version.replace("-", ""):
                return None
        out.append(candidate)
        current = candidate
    return out


def _next_moment(version: str) -> str | None:
    try:
        moment = datetime.strptime(version, "%Y-%m-%d-%H%M%S") + timedelta(seconds=1)
    except ValueError:
        return _plus_one(version)
    return moment.strftime("%Y-%m-%d-%H%M%S")


def _plus_one(version: str) -> str | None:
    if not version.isdigit():
        return None
    return str(int(version) + 1).zfill(len(version))


def _last_token_end(sql: str) -> int:
    tokens = [t for t in parser.scan(sql) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    return tokens[-1].end + 1


def _apply(text: str, edits: list[Edit]) -> str:
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    out, at = [], 0
    for edit in ordered:
        if edit.start < at:
            raise PlanError("overlapping fixes; fix the file in two runs")
        out.append(text[at:edit.start])
        out.append(edit.text)
        at = edit.end
    out.append(text[at:])
    return "".join(out)


def _display(reference: str, target: Path) -> str:
    """`target` spelled like the user spelled the migration it belongs to."""
    import os

    base = os.path.dirname(reference)
    folder = Path(base).resolve() if base else Path.cwd()
    try:
        rel = target.resolve().relative_to(folder)
    except ValueError:
        try:
            rel = target.resolve().relative_to(folder.parent)
            return os.path.join(os.path.dirname(base), str(rel)) if base else str(rel)
        except ValueError:
            return str(target)
    return os.path.join(base, str(rel)) if base else str(rel)


def diff_text(fixes: Fixes) -> str:
    out = []
    for change in fixes.changes:
        before = change.before.splitlines(keepends=True)
        after = change.after.splitlines(keepends=True)
        name = change.display.lstrip("/")
        old = "/dev/null" if change.new else f"a/{name}"
        lines = difflib.unified_diff(before, after, old, f"b/{name}")
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def apply_fixes(fixes: Fixes) -> list[str]:
    """Write every change: new files first (never over an existing one), then edits in place."""
    for change in fixes.changes:
        if change.new and change.path.exists():
            raise PlanError(f"{change.display} already exists; nothing was written")
        if not change.new:
            current = change.path.read_bytes().decode("utf-8")
            if current != change.before:
                raise PlanError(f"{change.display} changed since it was read; nothing was written")
    written = []
    created_dirs = []
    for change in (c for c in fixes.changes if c.new):
        if not change.path.parent.exists():
            change.path.parent.mkdir(parents=True)
            created_dirs.append(change.path.parent)
        create_file(change.path, change.after.encode("utf-8"))
        written.append(change.display)
    for change in (c for c in fixes.changes if not c.new):
        replace_file(change.path, change.after.encode("utf-8"))
        written.append(change.display)
    return written
