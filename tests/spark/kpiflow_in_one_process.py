"""Run several `kpiflow` commands through the CLI's entry point in this one process (one JVM, one Derby metastore
start for all the Spark commands): `python kpiflow_in_one_process.py STEPS_JSON OUT_DIR`, STEPS_JSON a list of
(arguments, variables to export first). Each command's stdout goes to OUT_DIR/<n>.out, then a JSON line with its exit
code and seconds is printed; the first command that fails ends the process with exit 1.

A script file, not `python -c`: pyspark takes a main module without a file for its own doctest runner and exits.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

from kpiflow.cli import main


def run_steps(steps: list[tuple[list[str], dict[str, str]]], out: Path) -> int:
    for number, (args, exported) in enumerate(steps):
        os.environ.update(exported)
        sys.argv = ["kpiflow", *args]
        clock, code, printed = time.monotonic(), 0, io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        (out / f"{number}.out").write_text(printed.getvalue())
        print(json.dumps({"step": number, "exit": code, "seconds": time.monotonic() - clock}), flush=True)
        if code:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_steps(json.loads(sys.argv[1]), Path(sys.argv[2])))
