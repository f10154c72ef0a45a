"""The project state of a rendering kept renderable when some of its models cannot be.

A project checked without its third-party apps (`django_celery_beat`, `taggit`) has models that
point at models that are not there: a ForeignKey to them, or one as a base class (saleor's
`schedulers.CustomPeriodicTask` extends `django_celery_beat.PeriodicTask`). Django renders the
model states one change at a time (`ProjectState.reload_model`) and leaves such a reference
unresolved; but a rendering of every model at once (`ProjectState.apps`: at the first migration
applied on a restored database, and whenever a RunPython needs every model) refuses the whole
state for one of them, and every RunPython after would fail. Here:

- a reference to a model that is not there stays unresolved in a rendering of every model too,
  as in Django's one-change renderings (its check of lazy references ignores them);
- a model whose base class is not there cannot be rendered at all: its state is left out, as
  the failure of its CreateModel already said, so that the others can be rendered.
"""
from __future__ import annotations

from django.core.checks import model_checks
from django.db.migrations.exceptions import InvalidBasesError
from django.db.migrations.state import _get_app_label_and_model_name


def _check_references_to_models_that_are_here(apps, ignore=None):
    return []  # what is still pending after a rendering names a model that was not rendered


def tolerate_absent_models() -> None:
    """For this process (the rendering child): StateApps imports the check when it runs."""
    model_checks._check_lazy_references = _check_references_to_models_that_are_here


def render_every_model(state) -> None:
    """`state.apps`, leaving out the models whose base classes are not there."""
    try:
        state.apps
        return
    except InvalidBasesError:
        pass
    for key in _without_bases(state):
        state.models.pop(key, None)
    state.apps


def forget_unrendered_model(state, app_label: str, operation) -> None:
    """After a CreateModel whose model could not be rendered: its state goes too."""
    name = getattr(operation, "name_lower", None)
    if name is not None and "apps" in state.__dict__:
        try:
            state.apps.get_model(app_label, name)
        except LookupError:
            state.models.pop((app_label, name), None)


def _without_bases(state) -> set[tuple[str, str]]:
    real = {(m._meta.app_label, m._meta.model_name) for m in _real_models(state)}
    missing: set[tuple[str, str]] = set()
    changed = True
    while changed:
        changed = False
        for key, model_state in state.models.items():
            if key in missing:
                continue
            for base in model_state.bases:
                if not isinstance(base, str):
                    continue
                base_key = _get_app_label_and_model_name(base, key[0])
                base_key = (base_key[0], base_key[1].lower())
                if base_key in missing or (base_key not in state.models and base_key not in real):
                    missing.add(key)
                    changed = True
                    break
    return missing


def _real_models(state):
    from django.apps import apps as global_apps

    for label in state.real_apps:
        yield from global_apps.get_app_config(label).get_models()
