"""Which message each local worker process is handling, so that when the process dies its
message is released at once instead of after its visibility timeout.

A worker writes `<dir>/<pid>.json` ({queue, receipt}) while it handles a message and
removes it after. The supervisor of `stereospot serve` releases (visibility 0) the claim of
a child it saw die, and every worker releases the claims of dead processes when it starts.
A stale receipt (the message was delivered again since) does nothing, so a late or double
release is harmless. Local platform only: on AWS the short visibility timeout, kept up by
the heartbeat while a worker lives, brings the message back within minutes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from stereospot.domain.ports import Queues
from stereospot.domain.routing import QueueName

logger = logging.getLogger(__name__)


class Claims:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._path = directory / f"{os.getpid()}.json"

    def hold(self, queue: QueueName, receipt: str) -> None:
        temp = self._path.with_suffix(".tmp")
        temp.write_text(json.dumps({"queue": queue.value, "receipt": receipt}))
        temp.replace(self._path)

    def clear(self) -> None:
        self._path.unlink(missing_ok=True)


def release(directory: Path, pid: int, queues: Queues) -> bool:
    """Release the message the (dead) process `pid` held; True if there was one."""
    path = directory / f"{pid}.json"
    try:
        claim = json.loads(path.read_text())
        queue = queues[QueueName(claim["queue"])]
        queue.extend_visibility(str(claim["receipt"]), 0)
    except FileNotFoundError:
        return False
    except Exception:
        logger.warning("could not release the message of process %d", pid, exc_info=True)
        path.unlink(missing_ok=True)
        return False
    path.unlink(missing_ok=True)
    logger.info("released the message process %d held when it stopped", pid)
    return True


def release_dead(directory: Path, queues: Queues, alive: Callable[[int], bool]) -> int:
    """Release every claim whose process is gone (`alive(pid)` False); how many."""
    released = 0
    for path in directory.glob("*.json") if directory.is_dir() else ():
        if path.stem.isdigit() and not alive(int(path.stem)):
            released += release(directory, int(path.stem), queues)
    return released


def claims_directory(data_dir: Path) -> Path:
    return data_dir / "tmp" / "claims"
