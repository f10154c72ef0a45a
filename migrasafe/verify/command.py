"""Read, plan, run: one `migrasafe verify`."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from .outcome import Note, VerifyReport


class VerifyError(Exception):
    """The run cannot start (a bad option, no server); the message says why. Exit 2."""


@dataclass
class VerifyOptions:
    backend: str = "embedded"
    dsn: str | None = None
    image: str | None = None
    start: str | None = None  # --from
    stop: str | None = None  # --to
    since: str | None = None
    statement_timeout_ms: float | None = None
    progress: bool | None = False  # None: when standard error is a terminal


def verify(paths: list[str], config: Config, options: VerifyOptions = VerifyOptions(), server=None) -> VerifyReport:
    """`server`: one already started (tests share one); otherwise the backend starts one, while the
    migrations are read, and removes it afterwards."""
    from ..replay.backends import BackendError
    from ..replay.background import BackgroundServer

    started = time.perf_counter()
    starting = None
    if server is None and options.backend == "embedded":
        starting = BackgroundServer("embedded", config.pg_version)
    try:
        report, planned = prepare(paths, config, options)
        if planned:
            with _server(server, starting, options, config) as running:
                from ..replay.progress import Progress
                from .runner import verify_chains

                progress = Progress(options.progress)
                try:
                    report.chains = verify_chains(running, planned, config, progress, options.statement_timeout_ms)
                finally:
                    progress.clear()
                report.server = running.label
    except BackendError as err:
        raise VerifyError(str(err)) from None
    finally:
        if starting is not None:
            starting.close()
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    return report


def prepare(paths: list[str], config: Config, options: VerifyOptions):
    from ..changed import ChangedFilesError, changed_files
    from .parts import read_chains
    from .trips import SelectionError, plan_trips

    report = VerifyReport()
    chains, problems = read_chains(paths, config)
    report.problems = [Note("error", "input", p.message, p.path, p.line) for p in problems]
    changed = None
    if options.since:
        try:
            changed = changed_files(options.since, Path(paths[0]))
        except ChangedFilesError as err:
            raise VerifyError(str(err)) from None
    try:
        planned = plan_trips(chains, options.start, options.stop, changed)
    except SelectionError as err:
        raise VerifyError(str(err)) from None
    return report, planned


@contextlib.contextmanager
def _server(server, starting, options: VerifyOptions, config: Config):
    from ..replay.backends import open_backend

    if server is not None:
        yield server
    elif starting is not None:
        yield starting.get()
    else:
        with open_backend(options.backend, pg_version=config.pg_version, dsn=options.dsn,
                          image=options.image) as opened:
            yield opened
