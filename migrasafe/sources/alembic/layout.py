"""Where an Alembic project keeps its revisions, found from file names and alembic.ini alone.

Detection stays cheap (no Alembic import): alembic.ini, `[tool.alembic]` in pyproject.toml, or a
folder holding env.py beside a versions/ folder (Flask-Migrate keeps alembic.ini there too).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

INI_NAME = "alembic.ini"
# How far above a revision file its project folder may be (versions/<branch>/<file>.py at most).
_REVISION_DEPTH = 4


@dataclass(frozen=True)
class Layout:
    folder: Path  # the folder that declares the project (alembic.ini's, or the script location)
    script_location: Path | None  # folder holding env.py and versions/; None for `package:path`
    ini: Path | None = None
    pyproject: Path | None = None  # with a [tool.alembic] table
    resource: str | None = None  # script_location given as `package:path`, resolved on reading
    # Revision folders found on disk when no configuration file names them (locations.py): the
    # sub-folders of versions/, or a folder of revisions named on its own. None: Alembic's own.
    version_locations: tuple[Path, ...] | None = None
    locations_reason: str = ""  # which folders were chosen and why, for users
    other_locations: tuple[Path, ...] = ()  # revision folders not read (other databases, not named)

    @property
    def key(self) -> str:
        return str(self.script_location or self.resource)


def find_layout(folder: Path) -> Layout | None:
    """The Alembic project `folder` declares, or None."""
    layout = _declared_layout(folder.resolve())
    if layout is None or layout.script_location is None or _configures_versions(layout):
        return layout
    from .locations import versions_below

    found = versions_below(layout.script_location)
    if found is None:
        return layout
    return replace(layout, version_locations=found.folders, locations_reason=found.reason,
                   other_locations=found.others)


def revision_folder_layout(folder: Path) -> Layout | None:
    """A folder of revision files named on its own, with no env.py or alembic.ini near it."""
    from .locations import revision_folder

    folder = folder.resolve()
    found = revision_folder(folder)
    if found is None:
        return None
    return Layout(folder, folder, version_locations=found.folders, locations_reason=found.reason)


def _configures_versions(layout: Layout) -> bool:
    """Does the project's configuration file say where revisions are (version_locations, or
    recursive_version_locations, which makes Alembic read the sub-folders of versions/ itself)?"""
    keys = ("version_locations", "recursive_version_locations")
    if layout.ini is not None:
        return any(_ini_option(layout.ini, k) is not None for k in keys)
    if layout.pyproject is not None:
        return any(_toml_option(layout.pyproject, k) is not None for k in keys)
    return False


def _declared_layout(folder: Path) -> Layout | None:
    ini = folder / INI_NAME
    if ini.is_file():
        location = _ini_script_location(ini)
        if location is None:
            # Flask-Migrate's alembic.ini sits in the script location and does not name it.
            return Layout(folder, folder, ini=ini) if is_script_location(folder) else None
        return _layout(folder, location, ini=ini)
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        location = _toml_script_location(pyproject)
        if location is not None:
            return _layout(folder, location, pyproject=pyproject)
    if is_script_location(folder):
        return Layout(folder, folder)
    return None


def is_script_location(folder: Path) -> bool:
    return (folder / "env.py").is_file() and (folder / "versions").is_dir()


def layout_of_revision(file: Path) -> Layout | None:
    """The project a revision file belongs to, preferring the folder whose alembic.ini names it."""
    file = file.resolve()
    found: Layout | None = None
    for parent in list(file.parents)[:_REVISION_DEPTH]:
        layout = find_layout(parent)
        if layout is None:
            continue
        if found is None:
            if layout.script_location is not None and file.is_relative_to(layout.script_location):
                found = layout
        elif layout.script_location == found.script_location and layout.ini is not None:
            return layout
    if found is not None and found.ini is None:
        # The script location itself was found first; an alembic.ini just above may configure it.
        above = find_layout(found.folder.parent)
        if above is not None and above.script_location == found.script_location:
            return above
    return found


def _layout(folder: Path, location: str, ini: Path | None = None, pyproject: Path | None = None) -> Layout:
    if _is_resource(location):
        return Layout(folder, None, ini=ini, pyproject=pyproject, resource=location)
    path = Path(location).expanduser()
    # Alembic reads a relative script_location from the directory it runs in, which is the one
    # holding its config file.
    path = (folder / path).resolve() if not path.is_absolute() else path.resolve()
    return Layout(folder, path, ini=ini, pyproject=pyproject)


def _is_resource(location: str) -> bool:
    """`myapp:migrations`, not `C:\\migrations` or `/abs/path`."""
    head, sep, _ = location.partition(":")
    return bool(sep) and len(head) > 1 and "/" not in head and "\\" not in head


def _ini_script_location(ini: Path) -> str | None:
    return _ini_option(ini, "script_location")


def _ini_option(ini: Path, name: str) -> str | None:
    import configparser  # only for a folder that has an alembic.ini

    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    try:
        parser.read(ini, encoding="utf-8")
        value = parser.get("alembic", name, fallback=None)
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    return value.strip() if value and value.strip() else None


def _toml_script_location(pyproject: Path) -> str | None:
    return _toml_option(pyproject, "script_location")


def _toml_option(pyproject: Path, name: str) -> str | None:
    import tomllib  # only for a folder that has a pyproject.toml

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    value = data.get("tool", {}).get("alembic", {}).get(name)
    if isinstance(value, list):  # version_locations may be a TOML list
        value = " ".join(str(v) for v in value)
    if isinstance(value, bool):  # recursive_version_locations = true
        value = str(value).lower()
    if not isinstance(value, str) or not value.strip():
        return None
    return value.replace("%(here)s", str(pyproject.parent)).strip()
