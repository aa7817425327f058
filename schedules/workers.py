"""Naming the process that claims a send, and telling whether it is still alive.

`claimed_by` is `host:pid:start` (the kernel's process start time), so after a crash
the next process on the same host can see at once that a claim's owner is gone, even
if the pid was reused. Owners on other hosts are judged by the lease alone.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a process (Linux), so a reused pid is not mistaken."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime); the command name in field 2 may hold spaces, so split after it.
    return stat.rsplit(")", 1)[1].split()[19]


def worker_identity() -> str:
    """`host:pid:start` naming this process in `claimed_by`."""
    host = socket.gethostname()[:40]
    pid = os.getpid()
    return f"{host}:{pid}:{_process_start(pid) or '0'}"


def is_dead_worker(worker: str, *, me: str | None = None) -> bool:
    """Whether a claim's worker is known to be gone: on this host, its process ended.

    Workers on other hosts cannot be checked from here; their claims wait for the lease.
    """
    host, _, rest = worker.partition(":")
    pid_text, _, start = rest.partition(":")
    mine = me or worker_identity()
    if worker == mine or host != mine.partition(":")[0] or not pid_text.isdigit():
        return False
    if start == "0" or not Path("/proc/self/stat").exists():
        return False  # no /proc here: the lease decides
    return _process_start(int(pid_text)) != start
