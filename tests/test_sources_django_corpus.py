"""The shared corpus's saleor/saleor migration folders, with no project code.

The whole history (1,417 migrations in 26 apps) takes minutes to render cold; its figures are in
bench/django-results.md (bench/django.py). This test checks the `page` app, whose migrations
depend on no other app: every migration rendered or explained, the non-concurrent GIN indexes
of SOURCE.md flagged on their operation, the non-atomic concurrent index migrations clean.
"""
from __future__ import annotations

import io
import json
import os
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from migrasafe.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "saleor__saleor"
PAGE = CORPUS / "migrations" / "saleor" / "page"

pytestmark = pytest.mark.skipif(not PAGE.is_dir(), reason=f"the shared corpus is not at {CORPUS}")


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    root = tmp_path_factory.mktemp("saleor")
    shutil.copytree(PAGE, root / "migrations" / "saleor" / "page")
    cache = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("MIGRASAFE_CACHE_DIR")
    os.environ["MIGRASAFE_CACHE_DIR"] = str(cache)
    try:
        with redirect_stdout(io.StringIO()) as output:
            code = main(["check", str(root), "--format", "json"])
    finally:
        if previous is None:
            os.environ.pop("MIGRASAFE_CACHE_DIR", None)
        else:
            os.environ["MIGRASAFE_CACHE_DIR"] = previous
    return code, json.loads(output.getvalue())


def _by_name(data):
    return {m["name"]: m for m in data["migrations"]}


def _rules(migration, severities=("warning", "error")):
    found = [(f["rule"], s["line"]) for s in migration["statements"] for f in s["findings"]
             if f["severity"] in severities]
    return found + [(f["rule"], f["line"]) for f in migration["findings"] if f["severity"] in severities]


def test_every_page_migration_is_rendered_and_none_is_an_input_error(checked):
    code, data = checked
    on_disk = sorted(p.stem for p in (PAGE / "migrations").glob("[0-9]*.py"))
    assert sorted(_by_name(data)) == on_disk
    assert all(m["format"] == "django" and m["app"] == "page" for m in data["migrations"])
    assert data["skipped"] == []
    assert not [f for f in data["findings"] if f["severity"] == "error"]
    errors = [f for m in data["migrations"] for f in m["findings"] if f["rule"] == "MS099"]
    assert errors == []
    assert code == 1  # dangerous migrations are there: a fail, not an input error (2)


def test_non_concurrent_gin_indexes_are_flagged_on_their_operation(checked):
    _, data = checked
    migration = _by_name(data)["0021_auto_20210308_1135"]
    assert [line for rule, line in _rules(migration) if rule == "MS001"] == [14, 21, 28, 35]
    (first,) = [s for s in migration["statements"] if s["line"] == 14]
    assert first["sql"].startswith('CREATE INDEX "page_p_meta_idx" ON "page_page" USING gin')


def test_non_atomic_concurrent_index_migrations_are_clean(checked):
    _, data = checked
    for name in ("0034_remove_page_page_page_title_964714_gin", "0035_page_page_slug_btree_idx"):
        migration = _by_name(data)[name]
        assert migration["in_transaction"] is False
        assert _rules(migration, ("info", "warning", "error")) == []
        assert all("CONCURRENTLY" in s["sql"] for s in migration["statements"])


def test_custom_fields_of_the_absent_application_are_named(checked):
    _, data = checked
    notes = [f["message"] for f in _by_name(data)["0016_auto_20201112_0904"]["findings"] if f["rule"] == "MS085"]
    assert notes and all("saleor.core.db.fields.SanitizedJSONField (rendered as JSONField)" in n for n in notes)
