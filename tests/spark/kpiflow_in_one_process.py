"""Run several `kpiflow` commands through the CLI's entry point in this one process (one JVM, one Derby metastore
start for all the Spark commands): `python kpiflow_in_one_process.py STEPS_JSON OUT_DIR`, STEPS_JSON a list of
(arguments, variables to export first). Each command's stdout goes to OUT_DIR/<n>.out, then a JSON line with its exit
code, seconds and CPU seconds (this process and its children, the JVM: a measure that the machine's load inflates
little) is printed; the first command that fails ends the process with exit 1.

A script file, not `python -c`: pyspark takes a main module without a file for its own doctest runner and exits.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

from kpiflow.cli import main


def run_steps(steps: list[tuple[list[str], dict[str, str]]], out: Path) -> int:
    for number, (args, exported) in enumerate(steps):
        os.environ.update(exported)
        sys.argv = ["kpiflow", *args]
        clock, cpu, code, printed = time.monotonic(), cpu_seconds(), 0, io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        (out / f"{number}.out").write_text(printed.getvalue())
        took = {"seconds": time.monotonic() - clock, "cpu": cpu_seconds() - cpu}
        print(json.dumps({"step": number, "exit": code, **took}), flush=True)
        if code:
            return 1
    return 0


def cpu_seconds() -> float:
    """User and system CPU of this process and of its running children (the JVM pyspark starts) with theirs."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == os.getpid():  # ppid; then utime, stime, cutime, cstime
            total += sum(int(value) for value in fields[11:15]) / ticks
    return total


if __name__ == "__main__":
    sys.exit(run_steps(json.loads(sys.argv[1]), Path(sys.argv[2])))
