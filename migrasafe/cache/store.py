"""Where cache entries live, and reading and writing them safely."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

# One entry format; a change of it makes older entries foreign (ignored, then evicted).
FORMAT = 1
DEFAULT_LIMIT_BYTES = 512 * 1024 * 1024


def cache_dir() -> Path:
    """MIGRASAFE_CACHE_DIR, else the platform's user cache folder (XDG_CACHE_HOME, ~/Library/Caches,
    %LOCALAPPDATA%)."""
    configured = os.environ.get("MIGRASAFE_CACHE_DIR")
    if configured:
        return Path(configured)
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "migrasafe" / "check"


class Store:
    def __init__(self, root: Path, limit_bytes: int = DEFAULT_LIMIT_BYTES):
        self.root = root
        self.limit_bytes = limit_bytes
        self.written = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> dict | None:
        try:
            data = json.loads(self._path(kind, key).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
            return None  # foreign, or from another migrasafe: not trusted
        return data

    def put(self, kind: str, key: str, payload: dict) -> None:
        """Write atomically: a concurrent run sees the whole entry or none."""
        path = self._path(kind, key)
        data = json.dumps({"format": FORMAT, "key": key, **payload}, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, path)
            except BaseException:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
                raise
        except OSError:
            return  # a cache that cannot be written is no cache; the run's results stand
        self.written += len(data)

    def evict(self) -> None:
        """Keep the cache under its limit, oldest entries first (by last write)."""
        if not self.written:
            return
        entries = []
        total = 0
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                entries.append((info.st_mtime_ns, info.st_size, path))
                total += info.st_size
        if total <= self.limit_bytes:
            return
        for _, size, path in sorted(entries):
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size
            if total <= self.limit_bytes * 0.8:
                break
