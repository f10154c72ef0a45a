"""The README says which tests can skip and when: every test file that can skip is named there."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so that this file does not match itself.
SKIPS = re.compile(r"pytest\.(?:skip|importor" + r"skip)\(|\bskip" + r"if\(")


def skip_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("What can skip, and when")
    end = readme.index("\n## ", start)
    return readme[start:end]


def test_every_test_file_that_can_skip_is_named_in_the_readme():
    section = skip_section()
    can_skip = sorted(path.name for path in (ROOT / "tests").glob("*.py") if SKIPS.search(path.read_text(encoding="utf-8")))
    assert "test_replay_timeline_browser.py" in can_skip  # the pattern finds them
    missing = [name for name in can_skip if f"`{name}`" not in section]
    assert not missing, f"README.md does not say when these can skip: {missing}"


def test_the_readme_names_no_test_file_that_cannot_skip():
    named = set(re.findall(r"`(test_\w+\.py)`", skip_section()))
    for name in sorted(named):
        path = ROOT / "tests" / name
        assert path.is_file(), name
        assert SKIPS.search(path.read_text(encoding="utf-8")), f"README.md lists {name}, which has no skip"
