"""Every real history in ../shared/corpus, checked from its project root as a newcomer would run
`migrasafe check .`: the layout is recognised, migrations are read, nothing is an input error or
an internal error. Each layout's own test counts its files and reads its SOURCE.md's named files."""
import json
from pathlib import Path

import pytest

from migrasafe.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

LAYOUTS = {
    "MarquezProject__marquez": {"flyway"},
    "chef__chef-server": {"sqitch"},
    "getredash__redash": {"alembic"},
    "goharbor__harbor": {"golang-migrate"},
    "hatchet-dev__hatchet": {"goose"},
    "kestra-io__kestra": {"flyway"},
    "mckaywrigley__chatbot-ui": {"supabase"},
    "openmeterio__openmeter": {"atlas"},
    "ory__kratos": {"popx"},
    "pypi__warehouse": {"alembic"},
    "rust-lang__crates.io": {"diesel"},
    "simstudioai__sim": {"drizzle"},
    "supabase__auth": {"popx"},
    "triggerdotdev__trigger.dev": {"prisma"},
    # saleor__saleor (Django) renders on a real server: tests/test_django_corpus.py checks it.
}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present (../shared/corpus)")


def test_every_project_of_the_corpus_is_listed_here_or_in_its_own_test():
    projects = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert projects - set(LAYOUTS) <= {"saleor__saleor"}, "a new corpus project needs its expected layout here"


@pytest.mark.parametrize("project", sorted(LAYOUTS))
def test_project_checked_from_its_root(project, capsys):
    code = main(["check", "--format", "json", str(CORPUS / project)])
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert "Traceback" not in out.err and "internal error" not in out.err
    assert {m["format"] for m in data["migrations"]} == LAYOUTS[project]
    assert len(data["migrations"]) > 10
    problems = [(f["path"], f["message"]) for f in data["findings"] if f["rule"] in ("MS099", "MS088")]
    for m in data["migrations"]:
        problems += [(m["path"], f["message"]) for f in m["findings"] if f["rule"] in ("MS099", "MS088")]
        problems += [(m["path"], f["message"]) for s in m["statements"] for f in s["findings"]
                     if f["rule"] in ("MS000", "MS088")]
    assert problems == []
    # Each of these histories holds migrations its SOURCE.md calls dangerous.
    assert code == 1 and data["verdict"] in ("warn", "fail")
