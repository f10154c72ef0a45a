"""What each migration tool does with a migration that is out of order, or that was edited after a
database applied it: data, one entry per source format, each from the tool's own code or docs.

Out of order (a new migration whose version sorts before one the base branch already has):
- flyway: `outOfOrder` defaults to false; validate (run by migrate) stops with "Detected resolved
  migration not applied to database" (flyway/flyway issues 1363 and 1295; the outOfOrder docs: "If
  you already have versions 1 and 3 applied, and now a version 2 is found, it will be applied too
  instead of being ignored").
- golang-migrate: the database keeps one current version and `up` runs the files above it, so a
  lower one never runs and nothing says so (golang-migrate/migrate issues 179 and 278).
- goose: since 3.3.0 `up` stops with "found N missing migrations before current version" unless
  `-allow-missing` (pressly/goose pull request 280, issue 279).
- dbmate: "we will apply all unapplied migrations in numeric order" (amacneil/dbmate issue 159);
  `--strict` refuses them instead (pull request 441).
- sql-migrate: `ToCatchup` applies the missing migrations below the last one run, "migration holes
  due to merges" (rubenv/sql-migrate migrate.go).
- diesel: `pending_migrations` is every version not in `__diesel_schema_migrations`, sorted
  (diesel_migrations `MigrationHarness`).
- prisma: `migrate deploy` applies every folder not recorded in `_prisma_migrations`, by name, with
  no order check (prisma-engines `schema-engine/core/src/commands/apply_migrations.rs`).
- popx: `UpTo` runs each migration whose version the table lacks (ory/x `popx/migrator.go`).
- supabase: `db push` stops with "Found local migration files to be inserted before the last
  migration on remote database" unless `--include-all`.
- node-pg-migrate: `checkOrder` (on by default) stops with "Not run migration … is preceding
  already run migration …".
- atlas: `--exec-order linear` (the default) "fails if it encounters files that were added out of
  order"; `atlas migrate rebase` renumbers them (atlasgo.io/versioned/apply).
- drizzle: the migrator runs an entry only when its `when` is later than the newest `created_at`
  the database recorded (drizzle-orm `pg-core/dialect.ts`): an earlier one never runs, silently.
- plain SQL and version folders have no tool to ask: what the runner keeps decides.

Edited after it shipped (the base branch has the file with other content):
- flyway: validate stops with a checksum mismatch; the CRC32 is "encoding and line-ending
  independent" and covers every line, comments included (flyway-core `ChecksumCalculator`).
- liquibase: update stops with "Validation Failed: N changesets check sum"; the checksum (v9) is
  of the changeset's SQL with all whitespace removed, comments kept (liquibase
  `AbstractSQLChange.generateCheckSum`, `NormalizingStream`).
- graphile-migrate: refuses a committed file whose `--! Hash` does not match its body ("has the
  file been tampered with?"), and one whose `--! Previous` is not the hash before it.
- atlas: `migrate apply` refuses a directory whose atlas.sum does not match its files; after
  `atlas migrate hash` it accepts it, and re-checks applied statements only for a file applied
  partially (ariga/atlas `sql/migrate/migrate.go`, `Executor.Execute`).
- prisma: `migrate deploy` never compares checksums (apply_migrations.rs above); `migrate dev`
  stops with "The migration … was modified after it was applied" and asks to reset.
- sqitch: `deploy` never runs a deployed change again; `sqitch check` "fails and reports
  divergence for all changes with non-matching hashes" of deploy scripts (sqitch-check(1)).
- every other tool records only which migrations ran: a database that ran it never runs it again.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutOfOrder:
    severity: str
    # What the tool does on a database that already has the base branch's latest ({latest}).
    does: str
    allow: str = ""  # the tool's own switch that accepts it, as advice


OUT_OF_ORDER: dict[str, OutOfOrder] = {
    "flyway": OutOfOrder(
        "error", "Flyway refuses to migrate a database that already has {latest}: validate stops with "
        "\"Detected resolved migration not applied to database: {version}\" (outOfOrder is false by default)",
        "or set outOfOrder=true in flyway.conf or flyway.toml, so that Flyway runs it after {latest}"),
    "golang-migrate": OutOfOrder(
        "error", "golang-migrate keeps one version per database: on a database at version {latest_version} "
        "or later `migrate up` never runs it, and says nothing"),
    "goose": OutOfOrder(
        "error", "goose up stops on a database that has {latest} with \"found 1 missing migrations before "
        "current version\"", "or run goose with -allow-missing, which applies it after {latest}"),
    "dbmate": OutOfOrder(
        "warning", "dbmate applies it after {latest} on databases that have {latest}, and before it on new "
        "ones (with --strict it refuses it)"),
    "sql-migrate": OutOfOrder(
        "warning", "sql-migrate applies it as a missing migration after {latest} on databases that have "
        "{latest}, and before it on new ones"),
    "diesel": OutOfOrder(
        "warning", "`diesel migration run` applies every pending migration: after {latest} on databases that "
        "have {latest}, before it on new ones"),
    "prisma": OutOfOrder(
        "warning", "`prisma migrate deploy` applies every migration it has not recorded, in name order: after "
        "{latest} on databases that have {latest}, before it on new ones"),
    "popx": OutOfOrder(
        "warning", "popx applies every version its table lacks: after {latest} on databases that have "
        "{latest}, before it on new ones"),
    "supabase": OutOfOrder(
        "error", "`supabase db push` stops with \"Found local migration files to be inserted before the last "
        "migration on remote database\"", "or push with --include-all, which applies it after {latest}"),
    "node-pg-migrate": OutOfOrder(
        "error", "node-pg-migrate stops on a database that has {latest} with \"Not run migration … is "
        "preceding already run migration …\"", "or run it with --no-check-order"),
    "atlas": OutOfOrder(
        "error", "`atlas migrate apply` stops on a database that has {latest}: the file was added out of "
        "order (--exec-order linear, the default)", "or renumber it with `atlas migrate rebase {version}`"),
    "drizzle": OutOfOrder(
        "error", "drizzle's migrator runs only entries whose \"when\" is later than the last one a database "
        "applied: on databases that have {latest} it never runs, and says nothing"),
    "sql": OutOfOrder(
        "info", "whatever applies this folder decides: a runner that keeps one current version never runs "
        "it on databases that have {latest}, one that keeps a list runs it after {latest} there"),
    "versioned-folders": OutOfOrder(
        "info", "whatever applies these folders decides: a runner that keeps one current version never runs "
        "it on databases that have {latest}, one that keeps a list runs it after {latest} there"),
}


@dataclass(frozen=True)
class Shipped:
    severity: str  # for an edit of the statements
    does: str  # what happens on a database that applied the old text
    checksum: bool = False  # does a command of the tool compare what ran with the file?
    ignores: str = ""  # what that comparison leaves out: "line endings", "whitespace"


SHIPPED: dict[str, Shipped] = {
    "flyway": Shipped(
        "error", "Flyway's validate (run by migrate) stops with \"Migration checksum mismatch for migration "
        "version {version}\" on every database that applied it: the checksum covers every line, comments "
        "included", checksum=True, ignores="line endings"),
    "liquibase": Shipped(
        "error", "Liquibase's update stops with \"Validation Failed: 1 changesets check sum\" on every database "
        "that ran it: the checksum covers the changeset's SQL and comments", checksum=True,
        ignores="whitespace"),
    "graphile-migrate": Shipped(
        "error", "graphile-migrate refuses the committed file once its body no longer matches its '--! Hash' "
        "(or the next file's '--! Previous'), and a database that ran it never runs the edit", checksum=True),
    "atlas": Shipped(
        "error", "`atlas migrate apply` stops: atlas.sum no longer matches the directory (\"You have a checksum "
        "error in your migration directory\"); re-hashing only hides it, since a database that applied the "
        "file never runs it again", checksum=True),
    "prisma": Shipped(
        "warning", "`prisma migrate deploy` never runs it again on databases that applied it, and `prisma "
        "migrate dev` stops on every such development database with \"The migration … was modified after it "
        "was applied\" and asks to reset it", checksum=True),
    "sqitch": Shipped(
        "warning", "`sqitch deploy` never runs a deployed change again, so no database that has it gets the "
        "edit, and `sqitch check` fails on the changed script's hash", checksum=True),
}

DEFAULT_SHIPPED = Shipped(
    "warning", "{tool} records only which migrations ran, not what they said: a database that applied it "
    "never runs the edit, while a new database runs the edited file")
# Atlas with an atlas.sum that lists the edited file's new hash.
REHASHED_ATLAS = Shipped(
    "warning", "atlas.sum was re-hashed, so `atlas migrate apply` accepts the directory, but a database that "
    "applied the file never runs it again (Atlas re-checks only a file it applied partially)", checksum=True)

# How a new migration is written, for fixes that say "put the change in a new migration".
NEW_MIGRATION: dict[str, str] = {
    "flyway": "a new V<version>__<name>.sql after the latest version",
    "liquibase": "a new changeset (its own author:id)",
    "graphile-migrate": "current.sql, then `graphile-migrate commit`",
    "atlas": "`atlas migrate new <name>` or `atlas migrate diff`",
    "prisma": "`prisma migrate dev --create-only --name <name>`",
    "sqitch": "`sqitch rework {name}` after a tag, or a new change with `sqitch add`",
    "golang-migrate": "`migrate create -ext sql -dir <dir> -seq <name>`",
    "goose": "`goose create <name> sql`",
    "dbmate": "`dbmate new <name>`",
    "diesel": "`diesel migration generate <name>`",
    "sql-migrate": "`sql-migrate new <name>`",
    "popx": "a new <timestamp>_<name>.up.sql",
    "supabase": "`supabase migration new <name>`",
    "node-pg-migrate": "`node-pg-migrate create <name> --migration-file-language sql`",
    "drizzle": "`drizzle-kit generate`, or `drizzle-kit generate --custom` for hand-written SQL",
    "alembic": "`alembic revision -m \"<name>\"`",
    "django": "`python manage.py makemigrations {name}`, with `--empty` for hand-written operations",
}


def shipped(fmt: str) -> Shipped:
    return SHIPPED.get(fmt, DEFAULT_SHIPPED)


def new_migration(fmt: str, name: str = "<name>") -> str:
    how = NEW_MIGRATION.get(fmt, "").replace("{name}", name)
    return f"a new migration ({how})" if how.startswith("`") else how or "a new migration"
