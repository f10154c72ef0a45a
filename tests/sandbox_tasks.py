"""Functions the sandbox tests run in the child process (importable there: the child gets the
test run's sys.path)."""
from __future__ import annotations

import os
import warnings


def steps(payload: dict, channel) -> None:
    """Each entry of payload["steps"] is one step: "ok", "warn", "exit", "write" or "raise"."""
    for index, what in enumerate(payload["steps"]):
        with channel.step(f"step:{index}", __file__):
            if what == "ok":
                channel.send({"index": index, "pid": os.getpid()})
            elif what == "warn":
                warnings.warn("a warning", UserWarning)  # line 16
            elif what == "exit":
                os._exit(5)  # line 18
            elif what == "write":
                try:
                    open(payload["target"], "w")  # line 21
                except PermissionError as error:
                    channel.send({"index": index, "refused": str(error)})
            elif what == "raise":
                raise KeyboardInterrupt
