"""Every real migration history in the shared corpus is read without an exception."""
from pathlib import Path

import pytest

from migrasafe.config import Config
from migrasafe.sources import read_migrations

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

# The tool each corpus project uses; Alembic projects (Python revisions) are read elsewhere.
EXPECTED_FORMATS = {
    "MarquezProject__marquez": "flyway",
    "kestra-io__kestra": "flyway",
    "goharbor__harbor": "golang-migrate",
    "ory__kratos": "popx",
    "supabase__auth": "popx",
    "rust-lang__crates.io": "diesel",
}


def migration_folders() -> list[Path]:
    """Folders that hold .sql files themselves; for diesel, the folder above each up.sql."""
    if not CORPUS.is_dir():
        return []
    return sorted({p.parent.parent if p.name in ("up.sql", "down.sql") else p.parent for p in CORPUS.rglob("*.sql")})


def require_corpus():
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")


def test_every_migration_folder_is_read():
    require_corpus()
    folders = migration_folders()
    assert folders
    for folder in folders:
        migrations, findings = read_migrations([str(folder)], Config())
        assert migrations, folder
        assert not [f for f in findings if f.rule == "MS099"], folder


@pytest.mark.parametrize("project, fmt", sorted(EXPECTED_FORMATS.items()))
def test_each_project_is_found_and_detected(project, fmt):
    require_corpus()
    root = CORPUS / project
    if not root.is_dir():
        pytest.skip(f"{project} not in the corpus")
    migrations, findings = read_migrations([str(root)], Config())
    assert migrations and findings == []
    assert {m.format for m in migrations} == {fmt}
    assert len({m.meta["history"] for m in migrations}) == 1
    assert not any(m.broken for m in migrations)
    parse_errors = [(m.path, s.line) for m in migrations for s in m.statements if s.parse_error]
    assert parse_errors == []
