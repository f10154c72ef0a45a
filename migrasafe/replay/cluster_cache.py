"""A freshly initialised data directory, kept as a template: initdb takes about as long as the rest
of a small replay, and its result depends only on the binaries and initdb's options. The first
replay with a given installation runs initdb and keeps a copy of the new cluster, before any
setting of its own is added or the server has started; later replays copy that template.

The template lives under $MIGRASAFE_CLUSTER_CACHE (default ~/.cache/migrasafe/clusters), one folder per
installation (path, binary size and time), and is written to a temporary name and renamed, so
replays running at once never see half of one. MIGRASAFE_CLUSTER_CACHE=off always runs initdb.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")


def cache_root() -> Path | None:
    configured = os.environ.get("MIGRASAFE_CLUSTER_CACHE")
    if configured == "off":
        return None
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "migrasafe" / "clusters"


def template_name(bindir: Path, superuser: str, owner_uid: int | None) -> str:
    postgres = (bindir / "postgres").stat()
    identity = f"{bindir.resolve()}|{postgres.st_size}|{postgres.st_mtime_ns}|{superuser}|{owner_uid}|{INITDB_OPTIONS}"
    return hashlib.sha256(identity.encode()).hexdigest()[:20]


def copy_tree(source: Path, target: Path) -> bool:
    """cp -a keeps owners and modes (the server refuses a data directory others can read)."""
    done = subprocess.run(["cp", "-a", str(source), str(target)], capture_output=True)
    return done.returncode == 0


def initialise(datadir: Path, bindir: Path, superuser: str, owner_uid: int | None, run_initdb) -> None:
    """Make `datadir` a new cluster: from the template when there is one, else by `run_initdb(argv)`."""
    root = cache_root()
    template = root / template_name(bindir, superuser, owner_uid) / "data" if root is not None else None
    if template is not None and (template / "PG_VERSION").is_file() and copy_tree(template, datadir):
        return
    shutil.rmtree(datadir, ignore_errors=True)
    run_initdb(["initdb", "-D", str(datadir), "-U", superuser, *INITDB_OPTIONS])
    if template is not None:
        keep(datadir, template)


def keep(datadir: Path, template: Path) -> None:
    """Store a copy of the new cluster as the template; a failure only means no template."""
    try:
        template.parent.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=template.parent.parent))
    except OSError:
        return
    try:
        if copy_tree(datadir, staging / "data"):
            try:
                os.rename(staging, template.parent)
                return
            except OSError:
                pass  # another replay stored it first
    finally:
        shutil.rmtree(staging, ignore_errors=True)
