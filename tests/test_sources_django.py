"""Django migrations: rendered by Django's schema editor on a throwaway server, checked as SQL.

The project in tests/django_project has two apps: `shop` (a ForeignKey AddField on an existing
table, an AddIndex without concurrency, a non-atomic AddIndexConcurrently, a RunSQL list with a
reverse_sql that must never run forward, a RunPython backfill) and `billing` (a squashed
migration Django applies in place of the two it replaces, and a suppression comment).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.sources.django import read as django_read
from migrasafe.sources.django.layout import find_layout

PROJECT = Path(__file__).parent / "django_project"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("django-cache")
    previous = os.environ.get("MIGRASAFE_CACHE_DIR")
    os.environ["MIGRASAFE_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("MIGRASAFE_CACHE_DIR", None)
    else:
        os.environ["MIGRASAFE_CACHE_DIR"] = previous


@pytest.fixture(scope="module")
def report(cache_dir):
    return run([str(PROJECT)], Config(lock_timeout="2s"))


def _reported(report):
    return {r.migration.version: r for r in report.results if not r.migration.meta.get("context")}


def _findings(result, severities=("warning", "error")):
    return [(f.rule, f.line) for f in result.all_findings() if f.severity in severities]


def test_the_plan_is_djangos_order_with_the_squash_in_place_of_what_it_replaces(report):
    order = [r.migration.version for r in report.results]
    reported = list(_reported(report))
    assert reported.count("billing.0001_squashed_0002_invoice_paid") == 1
    assert "billing.0001_initial" not in order and "billing.0002_invoice_paid" not in order
    shop = [v for v in reported if v.startswith("shop.")]
    assert shop == ["shop.0001_initial", "shop.0002_order_customer", "shop.0003_order_total_idx",
                    "shop.0004_order_note_idx", "shop.0005_widen_note", "shop.0006_order_status"]
    # Dependencies first: billing.0003 needs shop.0006 and the squash; Django's own apps come before.
    assert order.index("billing.0003_invoice_number") > order.index("shop.0006_order_status")
    assert order.index("billing.0003_invoice_number") > order.index("billing.0001_squashed_0002_invoice_paid")
    assert order.index("auth.0001_initial") < order.index("auth.0012_alter_user_first_name_max_length")
    contrib = [r for r in report.results if r.migration.version.startswith(("auth.", "contenttypes."))]
    assert contrib and all(r.migration.meta["context"] for r in contrib)
    assert sorted(Path(p).name for p in report.skipped) == ["0001_initial.py", "0002_invoice_paid.py"]
    assert all("replaced by the squashed migration billing.0001_squashed_0002_invoice_paid" in why
               for why in report.skipped.values())


def test_each_statement_is_djangos_sql_on_its_operations_line(report):
    result = _reported(report)["shop.0002_order_customer"]
    rendered = [(s.statement.line, s.statement.sql) for s in result.statements]
    assert rendered[0] == (9, "SET lock_timeout = '2s'")
    add_column, set_constraints, index = rendered[1:]
    assert add_column[0] == set_constraints[0] == index[0] == 10  # the AddField at line 10
    assert add_column[1].startswith('ALTER TABLE "shop_order" ADD COLUMN "customer_id" bigint NULL CONSTRAINT')
    assert 'REFERENCES "shop_customer"("id") DEFERRABLE INITIALLY DEFERRED' in add_column[1]
    assert set_constraints[1].startswith("SET CONSTRAINTS")
    assert index[1] == 'CREATE INDEX "shop_order_customer_id_f638df20" ON "shop_order" ("customer_id")'
    assert result.migration.path.endswith(os.path.join("shop", "migrations", "0002_order_customer.py"))


def test_foreign_key_add_field_index_blocks_writes(report):
    result = _reported(report)["shop.0002_order_customer"]
    # The index build scans shop_order while the foreign key, in the same transaction, keeps
    # writes to shop_customer blocked too: MS031.
    assert _findings(result) == [("MS001", 10), ("MS031", 10)]
    (index,) = [s for s in result.statements if s.statement.sql.startswith("CREATE INDEX")]
    assert [(l.relation, l.mode) for l in index.impact.locks] == [("public.shop_order", "ShareLock")]
    assert index.in_transaction
    (finding,) = [f for f in index.findings if f.rule == "MS001"]
    assert "AddIndexConcurrently" in finding.fix and "atomic = False" in finding.fix


def test_add_index_without_concurrency_is_flagged_and_the_concurrent_one_is_not(report):
    reported = _reported(report)
    assert _findings(reported["shop.0003_order_total_idx"]) == [("MS001", 9)]
    concurrent = reported["shop.0004_order_note_idx"]
    assert concurrent.migration.in_transaction is False
    assert "atomic = False (line 6)" in concurrent.migration.transaction_reason
    (statement,) = concurrent.statements
    assert statement.statement.sql == 'CREATE INDEX CONCURRENTLY "shop_order_note_idx" ON "shop_order" ("note")'
    assert statement.statement.line == 11 and not statement.in_transaction
    assert concurrent.all_findings() == []
    assert reported["shop.0003_order_total_idx"].migration.in_transaction is True


def test_run_sql_list_is_split_and_reverse_sql_never_runs(report):
    result = _reported(report)["shop.0005_widen_note"]
    assert [s.statement.sql for s in result.statements] == [
        "SET lock_timeout = '2s'", "ALTER TABLE shop_order ALTER COLUMN note TYPE varchar(200)"]
    assert all(s.statement.line == 8 for s in result.statements)
    assert _findings(result) == []  # a varchar widening keeps the rows as they are


def test_run_python_backfill_is_recorded_and_judged(report):
    result = _reported(report)["shop.0006_order_status"]
    sql = [(s.statement.line, s.statement.sql) for s in result.statements]
    assert (15, """UPDATE "shop_order" SET "status" = 'paid' WHERE "shop_order"."status" = ''""") in sql
    assert ("MS030", 15) in _findings(result)  # the backfill runs while the AddField's lock is held


def test_squashed_migration_and_suppression_comment(report):
    reported = _reported(report)
    squash = reported["billing.0001_squashed_0002_invoice_paid"]
    assert squash.statements[0].statement.sql.startswith('CREATE TABLE "billing_invoice"')
    assert '"paid" boolean NOT NULL' in squash.statements[0].statement.sql
    # The ignore comment above the AddIndex (line 10) covers its CREATE INDEX at line 11.
    number = reported["billing.0003_invoice_number"]
    assert [s.statement.line for s in number.statements] == [8, 9, 11]
    assert _findings(number, ("info", "warning", "error")) == []


def test_json_names_the_format_app_and_name(cache_dir, capsys):
    code = main(["check", str(PROJECT), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    migration = next(m for m in data["migrations"] if m.get("name") == "0003_order_total_idx")
    assert (migration["format"], migration["app"]) == ("django", "shop")
    assert migration["statements"][1]["line"] == 9


def test_a_warm_run_starts_neither_django_nor_postgresql(report, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("rendered again although nothing changed")

    monkeypatch.setattr(django_read, "render_project", refuse)
    again = run([str(PROJECT)], Config(lock_timeout="2s"))
    assert [(r.migration.version, _findings(r)) for r in again.results] == [
        (r.migration.version, _findings(r)) for r in report.results]


def test_a_corrupt_cache_entry_is_ignored(report, cache_dir, monkeypatch):
    entries = sorted(cache_dir.glob("django/migration-*.json"))
    assert entries
    for entry in entries:
        entry.write_text("{not json")
    calls = []
    real = django_read.render_project
    monkeypatch.setattr(django_read, "render_project", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = run([str(PROJECT)], Config(lock_timeout="2s"))
    assert calls == [1]
    assert _findings(_reported(again)["shop.0003_order_total_idx"]) == [("MS001", 9)]


def test_a_changed_migration_changes_its_key_and_its_dependents_keys_only(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    files, texts, _ = django_read._read_files(find_layout(copy), "")
    from migrasafe.sources.django.cache import file_keys

    before = file_keys(files, texts, {}, "ctx")
    shop3 = str((copy / "shop/migrations/0003_order_total_idx.py").resolve())
    texts[shop3] += "\n# edited\n"
    after = file_keys(files, texts, {}, "ctx")
    changed = {Path(p).name for p in before if before[p] != after[p]}
    assert changed == {"0003_order_total_idx.py", "0004_order_note_idx.py", "0005_widen_note.py",
                       "0006_order_status.py", "0003_invoice_number.py"}


@pytest.fixture(scope="module")
def bare(tmp_path_factory, cache_dir):
    """The apps' folders alone (no manage.py, no settings), with three more migrations: an atomic
    one holding AddIndexConcurrently, one importing a custom field that is not there, and one
    depending on a third-party app that is not installed."""
    root = tmp_path_factory.mktemp("bare") / "project"
    for app in ("shop", "billing"):
        shutil.copytree(PROJECT / app / "migrations", root / app / "migrations")
    (root / "shop/migrations/0007_atomic_concurrent.py").write_text(
        "from django.contrib.postgres.operations import AddIndexConcurrently\n"
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [(\"shop\", \"0006_order_status\")]\n\n"
        "    operations = [\n"
        "        AddIndexConcurrently(model_name=\"order\", index=models.Index(fields=[\"status\"], name=\"st_idx\")),\n"
        "    ]\n")
    (root / "shop/migrations/0008_order_amount.py").write_text(
        "import shop.fields\nfrom django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [(\"shop\", \"0007_atomic_concurrent\"), (\"taggit\", \"0003_taggeditem_add_unique_index\")]\n\n"
        "    operations = [\n"
        "        migrations.AddField(\"order\", \"amount\", shop.fields.MoneyField(max_digits=12, decimal_places=2, null=True)),\n"
        "    ]\n")
    (root / "shop/migrations/0009_broken_sql.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [(\"shop\", \"0008_order_amount\")]\n\n"
        "    operations = [\n"
        "        migrations.RunSQL(\"UPDATE no_such_table SET x = 1\"),\n"
        "    ]\n")
    (root / "shop/migrations/0010_status_idx.py").write_text(
        "from django.contrib.postgres.operations import AddIndexConcurrently\n"
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    atomic = False\n\n"
        "    dependencies = [(\"shop\", \"0009_broken_sql\")]\n\n"
        "    operations = [\n"
        "        AddIndexConcurrently(model_name=\"order\", index=models.Index(fields=[\"status\"], name=\"st2_idx\")),\n"
        "    ]\n")
    return root, run([str(root)], Config(lock_timeout="2s"))


def test_without_settings_a_minimal_configuration_renders_the_same_sql(bare, report):
    _, found = bare
    reported = _reported(found)
    assert [s.statement.sql for s in reported["shop.0003_order_total_idx"].statements] == [
        s.statement.sql for s in _reported(report)["shop.0003_order_total_idx"].statements]
    assert _findings(reported["shop.0003_order_total_idx"]) == [("MS001", 9)]


def test_an_atomic_migration_holding_add_index_concurrently_is_an_error(bare):
    _, found = bare
    result = _reported(found)["shop.0007_atomic_concurrent"]
    (error,) = [f for f in result.all_findings() if f.rule == "MS099"]
    assert error.line == 9 and "cannot be executed inside a transaction" in error.message
    assert "atomic = False" in error.fix
    assert result.statements == []


def test_a_missing_custom_field_is_stood_in_for_and_an_absent_app_reported_once(bare):
    _, found = bare
    result = _reported(found)["shop.0008_order_amount"]
    (statement,) = result.statements
    assert statement.statement.sql == 'ALTER TABLE "shop_order" ADD COLUMN "amount" numeric(12, 2) NULL'
    assert statement.statement.line == 9
    notes = [f for f in result.all_findings() if f.rule == "MS085"]
    assert any("shop.fields.MoneyField (rendered as DecimalField)" in n.message and n.line == 9 for n in notes)
    assert [n.line for n in notes if "'taggit'" in n.message] == [1]
    assert sum("'taggit'" in f.message for r in found.results for f in r.all_findings()) == 1


def test_without_django_installed_a_project_is_an_input_error_not_a_pass(monkeypatch, capsys):
    monkeypatch.setattr(django_read, "required_packages_missing", lambda: ["Django"])
    code = main(["check", str(PROJECT)])
    out = capsys.readouterr().out
    assert code == 2
    assert "MS099" in out and "pip install 'migrasafe[django]'" in out


def test_plan_writes_django_migrations_chained_to_the_apps_leaf(cache_dir):
    from migrasafe.plan.planner import prepare

    prepared = prepare(str(PROJECT / "shop"), "add-index", {"columns": "shop_order.status"})
    assert prepared.blocking == []
    ((path, text),) = prepared.files
    assert path == os.path.join("shop", "migrations", "0007_index_shop_order_status_idx.py")
    assert "    atomic = False\n" in text
    assert "dependencies = [('shop', '0006_order_status')]" in text
    assert "'CREATE INDEX CONCURRENTLY shop_order_status_idx ON public.shop_order (status)'" in text
    assert "'DROP INDEX CONCURRENTLY IF EXISTS public.shop_order_status_idx'" in text
    assert prepared.project.folder == PROJECT.resolve()


def test_an_added_migration_is_rendered_on_the_saved_database(tmp_path, monkeypatch):
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    monkeypatch.setenv("MIGRASAFE_CACHE_DIR", str(tmp_path / "cache"))
    run([str(copy)], Config(lock_timeout="2s"))
    (copy / "shop/migrations/0007_order_status_idx.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [(\"shop\", \"0006_order_status\")]\n\n"
        "    operations = [\n"
        "        migrations.AddIndex(model_name=\"order\", index=models.Index(fields=[\"status\"], name=\"st_idx\")),\n"
        "    ]\n")
    rendered = []
    real = django_read.render_project

    def counting(payload, limits, restore=None, snapshot=None):
        result = real(payload, limits, restore=restore, snapshot=snapshot)
        rendered.append((restore is not None, sorted(Path(f).name for f in result.renderings)))
        return result

    monkeypatch.setattr(django_read, "render_project", counting)
    again = run([str(copy)], Config(lock_timeout="2s"))
    assert rendered == [(True, ["0007_order_status_idx.py"])]
    reported = _reported(again)
    assert _findings(reported["shop.0007_order_status_idx"]) == [("MS001", 8)]
    assert _findings(reported["shop.0003_order_total_idx"]) == [("MS001", 9)]
    assert len(reported) == 9


def test_a_failed_operation_costs_only_itself(bare):
    _, found = bare
    reported = _reported(found)
    (note,) = [f for f in reported["shop.0009_broken_sql"].all_findings() if f.rule == "MS085"]
    assert note.line == 8 and 'relation "no_such_table" does not exist' in note.message
    after = reported["shop.0010_status_idx"]
    assert [s.statement.sql for s in after.statements] == [
        'CREATE INDEX CONCURRENTLY "st2_idx" ON "shop_order" ("status")']
    assert after.all_findings() == []


def test_a_checkout_in_another_folder_uses_the_same_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGRASAFE_CACHE_DIR", str(tmp_path / "cache"))
    first, second = tmp_path / "one" / "project", tmp_path / "two" / "project"
    for copy in (first, second):
        shutil.copytree(PROJECT, copy)
    before = run([str(first)], Config(lock_timeout="2s"))

    def refuse(*args, **kwargs):
        raise AssertionError("rendered again although only the folder differs")

    monkeypatch.setattr(django_read, "render_project", refuse)
    after = run([str(second)], Config(lock_timeout="2s"))
    assert [(r.migration.version, _findings(r)) for r in after.results] == [
        (r.migration.version, _findings(r)) for r in before.results]
    moved = _reported(after)["shop.0003_order_total_idx"].migration
    assert moved.meta["file"] == str((second / "shop/migrations/0003_order_total_idx.py").resolve())


def test_other_histories_beside_the_apps_are_still_found(tmp_path, cache_dir):
    for app in ("shop", "billing"):
        shutil.copytree(PROJECT / app / "migrations", tmp_path / "backend" / app / "migrations")
    flyway = tmp_path / "db" / "migrations"
    flyway.mkdir(parents=True)
    (flyway / "V1__audit.sql").write_text("CREATE TABLE audit (id bigint PRIMARY KEY);\n")
    found = run([str(tmp_path)], Config(lock_timeout="2s"))
    formats = {r.migration.format for r in found.results if not r.migration.meta.get("context")}
    assert formats == {"django", "flyway"}
    shop = _reported(found)["shop.0003_order_total_idx"].migration
    assert shop.path == os.path.join(str(tmp_path), "backend", "shop", "migrations", "0003_order_total_idx.py")


def test_an_app_folder_named_reports_that_apps_migrations(cache_dir, report):
    named = run([str(PROJECT / "billing")], Config(lock_timeout="2s"))
    assert list(_reported(named)) == ["billing.0001_squashed_0002_invoice_paid", "billing.0003_invoice_number"]
    assert "shop.0006_order_status" in [r.migration.version for r in named.results]  # read for its schema
