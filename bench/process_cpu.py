"""CPU seconds of a command and everything it starts, split at the lines it prints (for `kpiflow run`: its stages).

Wall time on a shared machine grows with the other processes; CPU seconds much less. A run on Spark starts a JVM
that pyspark does not wait for: when the run's Python ends first, the JVM is re-parented, and its CPU would be lost
to getrusage. So this process becomes the "subreaper" of its descendants (Linux prctl), waits for every process of
the command's tree itself, and the total is exact (getrusage of the children). The split between stages comes from
/proc: the CPU of the tree (live processes, plus what they already waited for) when a marked line appears.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    returncode: int
    wall: float
    cpu: float
    stdout: str
    stderr: str
    marks: dict[str, float] = field(default_factory=dict)  # CPU seconds from each marked line to the next


def adopt_orphans() -> None:
    """Become the subreaper of our descendants (their CPU then reaches getrusage when we wait for them)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def run(command: list[str], env: dict[str, str], mark_prefix: str | None = None) -> Measured:
    """Run `command` to its end (and its descendants'); with `mark_prefix`, CPU per stderr line starting with it
    (the text after the prefix names the part; the first part starts at the first such line)."""
    before, children_before = children_cpu(), _own_children()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marks: list[tuple[str, float]] = []
    stderr_lines = []
    out_reader = _Reader(process.stdout)
    for line in process.stderr:  # type: ignore[union-attr]
        stderr_lines.append(line)
        text = line.strip()
        if mark_prefix and text.startswith(mark_prefix):
            marks.append((text[len(mark_prefix) :].split()[0], _tree_cpu(process.pid)))
    process.wait()
    _wait_for_orphans(_own_children() - children_before)
    wall, cpu = time.perf_counter() - started, children_cpu() - before
    ends = [cpu_at for _, cpu_at in marks[1:]] + [cpu]
    split = {name: end - cpu_at for (name, cpu_at), end in zip(marks, ends, strict=False)}  # no marks: no split
    return Measured(process.returncode, wall, cpu, out_reader.text(), "".join(stderr_lines), split)


class _Reader:
    """Read a pipe on a thread, so a command that fills stdout while we read stderr does not block."""

    def __init__(self, pipe) -> None:
        import threading

        self._chunks: list[str] = []
        self._thread = threading.Thread(target=lambda: self._chunks.append(pipe.read()), daemon=True)
        self._thread.start()

    def text(self) -> str:
        self._thread.join()
        return "".join(self._chunks)


def children_cpu() -> float:
    """CPU seconds of this process's finished (and waited-for) children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, clock ticks of CPU: its own and its waited-for children's) of every live process."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            stats[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]))
    return stats


def _own_children() -> set[int]:
    return {pid for pid, (ppid, _) in _processes().items() if ppid == os.getpid()}


def _tree_cpu(root: int) -> float:
    """CPU seconds so far of `root` and its live descendants, including what each already waited for."""
    stats = _processes()
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in stats.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(stats[pid][1] for pid in tree if pid in stats) / _TICKS


def _wait_for_orphans(orphans: set[int]) -> None:
    """Wait for the descendants that outlived the command and became ours (e.g. the JVM), so getrusage counts them."""
    for pid in orphans:
        with contextlib.suppress(ChildProcessError):  # already waited for
            os.waitpid(pid, 0)
