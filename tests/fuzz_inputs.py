"""Inputs for fuzzing `migrasafe check`, shared by tests/test_fuzz.py (small, fixed budget) and
bench/fuzz.py (large budget): grammar-built DDL, hostile fragments, and mutations of real
statements from the shared corpus (../shared/corpus), written into every migration layout and
checked in every output format. What must hold whatever the input is in `check_project`."""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
LAYOUTS = ("plain", "flyway", "golang-migrate", "dbmate", "diesel")
FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit", "markdown")

# --- grammar-built DDL ---------------------------------------------------------------------

names = st.sampled_from(["t", "t1", "t2", "orders", "users", '"Mixed Case"', "public.t", "s.t", "x"])
columns = st.sampled_from(["a", "b", "id", "created_at", '"Weird col"', "parent_id"])
types = st.sampled_from(["int", "bigint", "text", "varchar(10)", "timestamptz", "numeric(5,2)", "jsonb", "t",
                         "int[]", "citext", "serial", "boolean"])
defaults = st.sampled_from(["", " DEFAULT 0", " DEFAULT now()", " DEFAULT random()", " NOT NULL",
                            " NOT NULL DEFAULT 1", " GENERATED ALWAYS AS IDENTITY", " REFERENCES t (a)",
                            " PRIMARY KEY", " UNIQUE", " CHECK (a > 0)"])


@st.composite
def alter_command(draw) -> str:
    column, name, type_ = draw(columns), draw(names), draw(types)
    return draw(st.sampled_from([
        f"ADD COLUMN {column} {type_}{draw(defaults)}",
        f"ADD COLUMN IF NOT EXISTS {column} {type_}",
        f"DROP COLUMN {column}", f"DROP COLUMN IF EXISTS {column} CASCADE",
        f"ALTER COLUMN {column} TYPE {type_}", f"ALTER COLUMN {column} TYPE {type_} USING {column}::{type_}",
        f"ALTER COLUMN {column} SET NOT NULL", f"ALTER COLUMN {column} DROP NOT NULL",
        f"ALTER COLUMN {column} SET DEFAULT 1", f"ALTER COLUMN {column} DROP DEFAULT",
        f"ADD CONSTRAINT c_{column} CHECK ({column} > 0)", f"ADD CONSTRAINT c CHECK (a > 0) NOT VALID",
        f"ADD CONSTRAINT fk FOREIGN KEY ({column}) REFERENCES {name} (id)",
        f"ADD FOREIGN KEY ({column}) REFERENCES {name}", f"ADD UNIQUE ({column})", f"ADD PRIMARY KEY ({column})",
        f"ADD CONSTRAINT ex EXCLUDE USING gist ({column} WITH =)", "VALIDATE CONSTRAINT c", "DROP CONSTRAINT c",
        "ENABLE ALWAYS RULE r", "ENABLE REPLICA RULE r", "DISABLE RULE r", "ENABLE TRIGGER ALL",
        "SET LOGGED", "SET UNLOGGED", "SET TABLESPACE fast", "SET (fillfactor = 70)", "OWNER TO app",
        f"ATTACH PARTITION {name} DEFAULT", f"ATTACH PARTITION {name} FOR VALUES IN (1)",
        f"DETACH PARTITION {name}", f"DETACH PARTITION {name} CONCURRENTLY", f"INHERIT {name}",
        f"NO INHERIT {name}", f"RENAME COLUMN {column} TO {column}_new", "REPLICA IDENTITY FULL",
        "CLUSTER ON i", "SET WITHOUT CLUSTER", "ALTER CONSTRAINT fk DEFERRABLE",
    ]))


@st.composite
def ddl_statement(draw) -> str:
    name, other, column, type_ = draw(names), draw(names), draw(columns), draw(types)
    kind = draw(st.integers(0, 17))
    if kind == 0:
        cols = ", ".join(f"{c} {draw(types)}{draw(defaults)}" for c in draw(st.lists(columns, min_size=0, max_size=4)))
        tail = draw(st.sampled_from(["", " PARTITION BY LIST (a)", " PARTITION BY RANGE (a)", f" INHERITS ({other})"]))
        return f"CREATE TABLE {draw(st.sampled_from(['', 'IF NOT EXISTS ']))}{name} ({cols}){tail}"
    if kind == 1:
        bound = draw(st.sampled_from(["DEFAULT", "FOR VALUES IN (1)", "FOR VALUES FROM (1) TO (10)",
                                      "FOR VALUES IN (NULL)", "FOR VALUES WITH (MODULUS 2, REMAINDER 0)"]))
        return f"CREATE TABLE {name} PARTITION OF {other} {bound}"
    if kind == 2:
        return f"ALTER TABLE {draw(st.sampled_from(['', 'IF EXISTS ', 'ONLY ']))}{name} " + ", ".join(
            draw(st.lists(alter_command(), min_size=1, max_size=3)))
    if kind == 3:
        return (f"CREATE {draw(st.sampled_from(['', 'UNIQUE ']))}INDEX "
                f"{draw(st.sampled_from(['', 'CONCURRENTLY ', 'IF NOT EXISTS ', 'CONCURRENTLY IF NOT EXISTS i ']))}"
                f"ON {name} ({column}{draw(st.sampled_from(['', ', a', ' DESC', ' text_pattern_ops']))})"
                f"{draw(st.sampled_from(['', ' WHERE a > 0', ' INCLUDE (b)']))}")
    if kind == 4:
        return f"DROP {draw(st.sampled_from(['TABLE', 'INDEX', 'INDEX CONCURRENTLY', 'VIEW', 'SEQUENCE']))} " \
               f"{draw(st.sampled_from(['', 'IF EXISTS ']))}{name}{draw(st.sampled_from(['', ' CASCADE']))}"
    if kind == 5:
        return f"CREATE {draw(st.sampled_from(['', 'OR REPLACE ', 'MATERIALIZED ']))}VIEW {name} AS " \
               f"SELECT {column} FROM {other}{draw(st.sampled_from(['', ' WHERE a > 0', ' JOIN t USING (a)']))}"
    if kind == 6:
        return draw(st.sampled_from([f"UPDATE {name} SET {column} = 0", f"UPDATE {name} SET a = 1 WHERE id < 100",
                                     f"DELETE FROM {name}", f"INSERT INTO {name} SELECT * FROM {other}",
                                     f"INSERT INTO {name} ({column}) VALUES (1), (2)", f"TRUNCATE {name}, {other}",
                                     f"MERGE INTO {name} USING {other} ON true WHEN MATCHED THEN DELETE"]))
    if kind == 7:
        return draw(st.sampled_from(["BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION", "SAVEPOINT s",
                                     "RELEASE s", "ROLLBACK TO s", "SET lock_timeout = '2s'", "SET lock_timeout = 0",
                                     "SET statement_timeout TO DEFAULT", "RESET ALL", "SET search_path = s, public",
                                     "SET TIME ZONE 'UTC'", "SET LOCAL lock_timeout = '1s'"]))
    if kind == 8:
        return f"DO $$ BEGIN {draw(ddl_statement())}; {draw(st.sampled_from(['', 'EXECUTE $x$SELECT 1$x$;']))} END $$"
    if kind == 9:
        return draw(st.sampled_from([f"VACUUM FULL {name}", f"CLUSTER {name} USING i", f"REINDEX TABLE {name}",
                                     f"REINDEX INDEX CONCURRENTLY {name}", f"REFRESH MATERIALIZED VIEW {name}",
                                     f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE", f"ANALYZE {name}",
                                     f"COMMENT ON TABLE {name} IS 'x'", f"COMMENT ON COLUMN {name}.{column} IS NULL"]))
    if kind == 10:
        return f"ALTER TABLE {name} RENAME TO {other}"
    if kind == 11:
        return draw(st.sampled_from([f"CREATE TYPE {name} AS ENUM ('a')", f"ALTER TYPE {name} ADD VALUE 'b'",
                                     f"CREATE DOMAIN {name} AS int CHECK (VALUE > 0)", f"CREATE SCHEMA {name}",
                                     f"DROP SCHEMA {name} CASCADE", f"CREATE SEQUENCE {name}",
                                     f"CREATE EXTENSION IF NOT EXISTS {name}", f"GRANT SELECT ON {name} TO app"]))
    if kind == 12:
        return draw(st.sampled_from(["CREATE DATABASE d", "DROP DATABASE IF EXISTS other", "CREATE ROLE x",
                                     "ALTER SYSTEM SET work_mem = '1GB'", f"COPY {name} TO PROGRAM 'true'"]))
    if kind == 13:
        return f"CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
    if kind == 14:
        return f"CREATE TRIGGER tr BEFORE INSERT ON {name} FOR EACH ROW EXECUTE FUNCTION f()"
    if kind == 15:
        return f"ALTER INDEX {name} RENAME TO {other}"
    if kind == 16:
        return f"CREATE TABLE {name} (LIKE {other} INCLUDING ALL)"
    return f"ALTER TABLE {name} ALTER COLUMN {column} TYPE {type_}"


# Text that is not SQL, or only nearly: what a careless or hostile author leaves in a file.
hostile_fragments = st.sampled_from([
    "", ";", ";;", "-- only a comment", "/* unterminated", "'unterminated", '"unterminated', "$$ unterminated",
    "SELEC 1", "\\c other", "\\set x 1", "{{ .Schema }}.t", "{{ template \"x\" }}", "${placeholder}",
    "\ufeffSELECT 1", "SELECT '\u00e9\U0001f600'", "\x00", "\r\n", "CREATE TABLE (", ")", "ALTER TABLE",
    "-- migrasafe: ignore MS001", "-- migrasafe: ignore-file", "-- migrate:up", "-- migrate:down",
    "-- +goose Up", "-- +goose StatementBegin", "--;--", "BEGIN ATOMIC", "((((((((((1))))))))))",
    "SELECT " + "(" * 200 + "1" + ")" * 200, "x" * 5000,
])


@lru_cache(maxsize=1)
def corpus_statements(limit: int = 3000) -> tuple[str, ...]:
    """Statements of the shared corpus, a fixed spread of its files; () when it is absent."""
    if not SHARED_CORPUS.is_dir():
        return ()
    from migrasafe.parse import split_statements

    files = sorted(p for p in SHARED_CORPUS.rglob("*.sql") if p.is_file())
    step = max(1, len(files) // 400)
    out: list[str] = []
    for path in files[::step]:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.extend(s.sql for s in split_statements(text) if 0 < len(s.sql) <= 3000)
        if len(out) >= limit:
            break
    return tuple(out[:limit])


@st.composite
def mutated(draw, statement: str) -> str:
    """A real statement, cut, spliced, doubled or with a character changed."""
    kind = draw(st.integers(0, 6))
    if not statement:
        return statement
    at = draw(st.integers(0, len(statement)))
    if kind == 0:
        return statement
    if kind == 1:
        return statement[:at]
    if kind == 2:
        return statement[at:]
    if kind == 3:
        return statement[:at] + draw(st.sampled_from(["(", ")", "'", '"', "$$", ";", ",", " CASCADE", " NOT NULL",
                                                       "--", "/*", "\n", "{{ .X }}"])) + statement[at:]
    if kind == 4:
        return statement[:at] + statement[min(len(statement), at + draw(st.integers(1, 20))):]
    if kind == 5:
        return statement + "; " + statement
    return statement.replace(" ", draw(st.sampled_from(["  ", "\n", "\t", "/**/"])), 1)


def sql_piece(with_corpus: bool):
    pieces = [ddl_statement(), ddl_statement(), hostile_fragments]
    corpus = corpus_statements() if with_corpus else ()
    if corpus:
        pieces.append(st.sampled_from(corpus).flatmap(mutated))
    return st.one_of(*pieces)


@st.composite
def migration_text(draw, with_corpus: bool = True) -> str:
    pieces = draw(st.lists(sql_piece(with_corpus), min_size=1, max_size=6))
    separators = st.sampled_from([";\n", ";\n", "; ", "\n", ";\r\n", ";\n\n-- note\n", ""])
    text = "".join(piece + draw(separators) for piece in pieces)
    return text


@st.composite
def project(draw, with_corpus: bool = True) -> tuple[str, list[str]]:
    layout = draw(st.sampled_from(LAYOUTS))
    texts = draw(st.lists(migration_text(with_corpus), min_size=1, max_size=3))
    return layout, texts


# --- writing and checking ------------------------------------------------------------------

def write_project(root: Path, layout: str, texts: list[str]) -> Path:
    """The migrations in the layout's own file names; returns the folder to check."""
    folder = root / "migrations"
    folder.mkdir(parents=True)
    for number, text in enumerate(texts, start=1):
        if layout == "plain":
            (folder / f"{number:03d}_step.sql").write_text(text, encoding="utf-8", newline="")
        elif layout == "flyway":
            (folder / f"V{number}__step.sql").write_text(text, encoding="utf-8", newline="")
        elif layout == "golang-migrate":
            (folder / f"{number:06d}_step.up.sql").write_text(text, encoding="utf-8", newline="")
            (folder / f"{number:06d}_step.down.sql").write_text("SELECT 1;\n", encoding="utf-8")
        elif layout == "dbmate":
            body = f"-- migrate:up\n{text}\n-- migrate:down\nSELECT 1;\n"
            (folder / f"2024010100000{number}_step.sql").write_text(body, encoding="utf-8", newline="")
        elif layout == "diesel":
            step = folder / f"2024-01-01-00000{number}_step"
            step.mkdir()
            (step / "up.sql").write_text(text, encoding="utf-8", newline="")
            (step / "down.sql").write_text("SELECT 1;\n", encoding="utf-8")
        else:
            raise ValueError(layout)
    return folder


_WORKFLOW_COMMAND = re.compile(r"::(error|warning|notice)( [^:]*)?::")


class FuzzFailure(AssertionError):
    pass


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    from migrasafe import cli

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    finally:
        gc.enable()  # the command turns the collector off for the rest of its process
    return code, out.getvalue(), err.getvalue()


def check_project(folder: Path) -> None:
    """The command, as CI runs it, with the JSON report: no internal error, a known exit code,
    no statement left unanalysed (MS088). Then the same report in every other format (one
    analysis, rendered as the command renders it): output that its readers accept."""
    code, out, err = run_cli(["check", "--format", "json", str(folder)])
    where = f"exit {code}\nstderr: {err[-2000:]}\nstdout: {out[-2000:]}"
    if "internal error" in err or "Traceback" in err or "Traceback" in out:
        raise FuzzFailure(f"internal error, {where}")
    if code not in (0, 1, 2):
        raise FuzzFailure(f"unexpected exit code, {where}")
    try:
        parsed = json.loads(out)
    except ValueError as parse_error:
        raise FuzzFailure(f"json output does not parse ({parse_error}), {where}") from None
    if not isinstance(parsed.get("migrations"), list):
        raise FuzzFailure(f"JSON report without migrations, {where}")
    rules = [f["rule"] for m in parsed["migrations"] for s in m["statements"] for f in s["findings"]]
    rules += [f["rule"] for m in parsed["migrations"] for f in m["findings"]] + [f["rule"] for f in parsed["findings"]]
    if "MS088" in rules:
        raise FuzzFailure(f"a statement could not be analysed (MS088), {where}")
    if ("MS000" in rules or "MS099" in rules) and code != 2:
        raise FuzzFailure(f"unread input did not make the exit code 2, {where}")

    from migrasafe.api import resolve_config
    from migrasafe.check import run
    from migrasafe.report import render

    report = run([str(folder)], resolve_config(None, str(folder)))
    for fmt in FORMATS:
        text = render(report, fmt)
        where = f"--format {fmt}\noutput: {text[-2000:]}"
        if not text.strip() and fmt != "github":
            raise FuzzFailure(f"no output, {where}")
        try:
            if fmt in ("json", "sarif", "gitlab"):
                parsed = json.loads(text)
                if fmt == "json" and text != out:
                    raise FuzzFailure(f"the command's JSON differs from the report's, {where}")
                if fmt == "sarif" and not parsed.get("runs"):
                    raise FuzzFailure(f"SARIF without runs, {where}")
                if fmt == "gitlab" and not isinstance(parsed, list):
                    raise FuzzFailure(f"GitLab report is not a list, {where}")
            elif fmt == "junit":
                ET.fromstring(text)
            elif fmt == "github":
                # Workflow commands, one a line (a message's own line breaks are escaped), then
                # the one-line summary.
                lines = text.splitlines()
                bad = [line for line in lines[:-1] if not _WORKFLOW_COMMAND.match(line)]
                if bad:
                    raise FuzzFailure(f"GitHub output line that is not a workflow command: {bad[0]!r}, {where}")
        except (ValueError, ET.ParseError) as parse_error:
            raise FuzzFailure(f"{fmt} output does not parse ({parse_error}), {where}") from None


def fuzz_once(tmp_root: Path, layout: str, texts: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(dir=tmp_root) as scratch:
        folder = write_project(Path(scratch), layout, texts)
        previous = os.getcwd()
        try:
            check_project(folder)
        except FuzzFailure as failure:
            raise FuzzFailure(f"{failure}\nlayout: {layout}\nmigrations: {texts!r}") from None
        finally:
            os.chdir(previous)
