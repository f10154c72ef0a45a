"""Django: a run that adds migrations continues from the database saved after the last rendering.

Django's plan is the forward plan of each app's leaf in turn (sorted by app label), so a migration
added to one app lands before migrations of other apps already saved (saleor: a new `order`
migration comes before `payment`, `site`, `webhook`...; here the project gets an `analytics` app,
and a new `analytics` migration comes before `shop` and `billing`). `manage.py migrate` on a
database holding those applies the new one on top of them; so does the rendering. A saved state
Django could not migrate further makes the run render everything again, and says why on stderr.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.config import Config
from migrasafe.sources.django import read as django_read

PROJECT = Path(__file__).parent / "django_project"

INITIAL = '''import socket

from django.db import migrations, models

try:  # what some libraries do on import (urllib3 probing for IPv6): refused in the rendering
    socket.socket(socket.AF_INET6).bind(("::1", 0))
except Exception:
    pass


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(name="Visit", fields=[
            ("id", models.BigAutoField(primary_key=True)), ("path", models.TextField())]),
    ]
'''

ADDED_INDEX = '''from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]{run_before}

    operations = [
        migrations.AddIndex(model_name="visit", index=models.Index(fields=["path"], name="visit_path_idx")),
    ]
'''


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The project with a third app, and the cache (renderings, saved database) of its first run."""
    folder = tmp_path_factory.mktemp("django-base")
    project, cache = folder / "project", folder / "cache"
    shutil.copytree(PROJECT, project)
    (project / "analytics/migrations").mkdir(parents=True)
    (project / "analytics/__init__.py").write_text("")
    (project / "analytics/migrations/__init__.py").write_text("")
    (project / "analytics/migrations/0001_initial.py").write_text(INITIAL)
    settings = project / "proj/settings.py"
    settings.write_text(settings.read_text().replace('"shop", "billing"]', '"shop", "billing", "analytics"]'))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIGRASAFE_CACHE_DIR", str(cache))
        first = run([str(project)], Config(lock_timeout="2s"))
    assert "analytics.0001_initial" in _reported(first)
    assert list(cache.glob("django/snapshot-*.dump"))
    return project, cache


def _project_with_added(tmp_path: Path, base, monkeypatch, run_before: str = "") -> tuple[Path, list]:
    project, saved = base
    shutil.copytree(saved, tmp_path / "cache")
    monkeypatch.setenv("MIGRASAFE_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    (copy / "analytics/migrations/0002_visit_path_idx.py").write_text(ADDED_INDEX.format(run_before=run_before))
    rendered = []
    real = django_read.render_project

    def counting(payload, limits, restore=None, snapshot=None):
        result = real(payload, limits, restore=restore, snapshot=snapshot)
        rendered.append((restore is not None, sorted(Path(f).name for f in result.renderings)))
        return result

    monkeypatch.setattr(django_read, "render_project", counting)
    return copy, rendered


def _reported(report):
    return {r.migration.version: r for r in report.results if not r.migration.meta.get("context")}


def test_a_migration_django_applies_before_saved_ones_renders_alone_on_the_saved_database(
        tmp_path, base, monkeypatch, capsys):
    copy, rendered = _project_with_added(tmp_path, base, monkeypatch)
    again = run([str(copy)], Config(lock_timeout="2s"))
    order = [r.migration.version for r in again.results]
    # The case that used to render everything: Django's plan puts the new migration before a saved one.
    assert order.index("analytics.0002_visit_path_idx") < order.index("shop.0001_initial")
    assert rendered == [(True, ["0002_visit_path_idx.py"])]
    assert "is not used" not in capsys.readouterr().err
    added = _reported(again)["analytics.0002_visit_path_idx"]
    assert [s.statement.sql for s in added.statements] == [
        'CREATE INDEX "visit_path_idx" ON "analytics_visit" ("path")']
    assert [(f.rule, f.line) for f in added.all_findings()] == [("MS001", 8)]
    # The refusal while the migrations were imported is the run's, not the first migration rendered.
    (refused,) = [f for f in again.findings if f.rule == "MS085"]
    assert "while Django loaded the migrations" in refused.message and "('::1', 0)" in refused.message
    assert len(_reported(again)) == 10  # shop's 6, billing's 2, analytics' 2

    # The next run continues from the database this one saved: nothing is left to render.
    monkeypatch.setattr(django_read, "render_project", lambda *a, **k: pytest.fail("rendered again"))
    assert [r.migration.version for r in run([str(copy)], Config(lock_timeout="2s")).results] == order


def test_a_saved_state_django_could_not_migrate_further_renders_everything_and_says_why(
        tmp_path, base, monkeypatch, capsys):
    # run_before a saved migration: on that database Django would stop (InconsistentMigrationHistory).
    copy, rendered = _project_with_added(tmp_path, base, monkeypatch,
                                         run_before='\n    run_before = [("shop", "0006_order_status")]')
    again = run([str(copy)], Config(lock_timeout="2s"))
    err = capsys.readouterr().err
    assert "the database saved after the last Django rendering is not used" in err
    assert "shop/migrations/0006_order_status.py, which it holds, changed or depends on a migration that changed" in err
    assert [restored for restored, _ in rendered] == [False]
    assert len(rendered[0][1]) == len(again.results)
    order = [r.migration.version for r in again.results]
    assert order.index("analytics.0002_visit_path_idx") < order.index("shop.0006_order_status")


def test_the_worker_refuses_a_restored_database_whose_migrations_depend_on_one_it_lacks():
    from types import SimpleNamespace

    from migrasafe.sources.django.worker import _not_continuable

    def node(key, parents=()):
        return SimpleNamespace(key=key, parents=[SimpleNamespace(key=p) for p in parents])

    nodes = {("a", "1"): node(("a", "1")), ("a", "2"): node(("a", "2"), [("a", "1"), ("b", "1")]),
             ("b", "1"): node(("b", "1"))}
    entries = [{"app": a, "name": n, "file": f"/p/{a}/{n}.py"} for a, n in nodes]
    loader = SimpleNamespace(graph=SimpleNamespace(node_map=nodes))
    plan = SimpleNamespace(entries=entries)
    assert _not_continuable(loader, plan, {"/p/a/1.py", "/p/b/1.py"}) is None
    assert _not_continuable(loader, plan, {"/p/a/1.py", "/p/a/2.py"}) == "a.2, which it holds, depends on b.1, which it does not"
    assert _not_continuable(loader, plan, {"/p/a/1.py", "/p/c/9.py"}) == "/p/c/9.py, which it holds, is no longer in Django's plan"


ABSENT_APPS = {
    "0001_initial.py": '''from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(name="Visit", fields=[
            ("id", models.BigAutoField(primary_key=True)), ("path", models.TextField())]),
    ]
''',
    # A base class of an app that is not here: the model cannot be rendered at all.
    "0002_task.py": '''import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial"), ("django_celery_beat", "0016_alter_crontabschedule_timezone")]

    operations = [
        migrations.CreateModel(name="Task", fields=[
            ("periodictask_ptr", models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE,
                                                      parent_link=True, primary_key=True, serialize=False,
                                                      to="django_celery_beat.periodictask")),
        ], bases=("django_celery_beat.periodictask",)),
    ]
''',
    # A ForeignKey to a model of an app that is not here: it stays unresolved.
    "0003_visit_tag.py": '''import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tracking", "0002_task"), ("taggit", "0003_taggeditem_add_unique_index")]

    operations = [
        migrations.AddField("visit", "tag", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE,
                                                               to="taggit.tag")),
        migrations.AddField("visit", "hits", models.IntegerField(default=0)),
    ]
''',
    "0004_count_visits.py": '''from django.db import migrations


def count(apps, schema_editor):
    apps.get_model("tracking", "Visit").objects.filter(hits__gt=1).count()


class Migration(migrations.Migration):
    dependencies = [("tracking", "0003_visit_tag")]

    operations = [migrations.RunPython(count, migrations.RunPython.noop)]
''',
}

ADDED_AFTER_ABSENT = '''from django.db import migrations


def count(apps, schema_editor):
    apps.get_model("tracking", "Visit").objects.filter(hits__gt=2).count()


class Migration(migrations.Migration):
    dependencies = [("tracking", "0004_count_visits")]

    operations = [migrations.RunPython(count, migrations.RunPython.noop)]
'''


def test_models_of_absent_apps_leave_every_other_model_renderable_also_on_the_saved_database(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGRASAFE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "project" / "tracking" / "migrations"
    folder.mkdir(parents=True)
    for name, text in ABSENT_APPS.items():
        (folder / name).write_text(text)
    first = _reported(run([str(tmp_path / "project")], Config()))
    (note,) = [f for f in first["tracking.0002_task"].all_findings() if "could not be rendered" in f.message]
    assert "Cannot resolve bases" in note.message and note.line == 9
    counted = first["tracking.0004_count_visits"]
    assert [s.statement.sql for s in counted.statements] == [
        'SELECT COUNT(*) AS "__count" FROM "tracking_visit" WHERE "tracking_visit"."hits" > 1']
    assert not [f for f in counted.all_findings() if "could not be rendered" in f.message]

    (folder / "0005_count_again.py").write_text(ADDED_AFTER_ABSENT)
    rendered = []
    real = django_read.render_project
    monkeypatch.setattr(django_read, "render_project", lambda payload, limits, restore=None, snapshot=None: (
        rendered.append(restore is not None) or real(payload, limits, restore=restore, snapshot=snapshot)))
    again = _reported(run([str(tmp_path / "project")], Config()))
    assert rendered == [True]  # every model rendered at once on the restored database, the Task left out
    assert [s.statement.sql for s in again["tracking.0005_count_again"].statements] == [
        'SELECT COUNT(*) AS "__count" FROM "tracking_visit" WHERE "tracking_visit"."hits" > 2']
