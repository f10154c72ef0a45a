"""Turn a `Report` into what the user reads: text for people, JSON for machines, and the
formats CI systems read (SARIF, GitHub annotations, GitLab Code Quality, JUnit, a Markdown
pull-request comment)."""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..model import Report

# Format name → (module, function); each module is imported only when its format is asked for.
RENDERERS = {
    "json": ("json", "render_json"),
    "sarif": ("sarif", "render_sarif"),
    "github": ("github", "render_github"),
    "gitlab": ("gitlab", "render_gitlab"),
    "junit": ("junit", "render_junit"),
    "markdown": ("markdown", "render_markdown"),
}
FORMATS = ("text", *RENDERERS)


def render(report: Report, fmt: str = "text", color: bool = False) -> str:
    if fmt in RENDERERS:
        module, function = RENDERERS[fmt]
        return getattr(import_module(f"{__name__}.{module}"), function)(report)
    if fmt != "text":
        raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
    from .text import render_text

    return render_text(report, color=color)


def render_chunks(report: Report, fmt: str = "text", color: bool = False) -> Iterator[str]:
    """`render`'s text in pieces, for a large report written as it is encoded (JSON only)."""
    if fmt == "json":
        from .json import render_json_chunks

        return render_json_chunks(report)
    return iter((render(report, fmt, color=color),))


def tool_version() -> str:
    import migrasafe

    version = getattr(migrasafe, "__version__", None)
    if version:
        return version
    version = checkout_version(migrasafe.__file__)
    if version:
        return version
    # Package metadata is slow to load, so it is only the fallback.
    from importlib.metadata import PackageNotFoundError, version as installed_version

    try:
        return installed_version("migrasafe")
    except PackageNotFoundError:
        return "0+unknown"


def checkout_version(package_file: str) -> str | None:
    """The version in pyproject.toml beside the package, when running from a source checkout."""
    from pathlib import Path

    pyproject = Path(package_file).resolve().parent.parent / "pyproject.toml"
    if not pyproject.is_file():
        return None
    import tomllib

    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if project.get("name") != "migrasafe":
        return None
    return project.get("version")
