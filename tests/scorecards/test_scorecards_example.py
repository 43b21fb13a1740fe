"""examples/marketer runs with one command and prints the article's figures and the exact variant."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "marketer" / "run.py"


def test_marketer_example_prints_article_and_exact_figures(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--warehouse", str(tmp_path / "marketer.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "= 0.550 + 0.212 + 0.375 = 1.137 = 113.70%" in out
    assert "pay = 560 + 240 x 1.137 = 832.88 (= 560 + 240 + 32.88)" in out
    assert "index = 0.5 x 1.100 + 0.25 x 0.850 + 0.25 x 1.500 = 1.1375 = 113.75%" in out
    assert "pay = 560 + 240 x 1.1375 = 833.00" in out
    assert "pay = 560 + 240 x 1.5 = 920.00" in out
    assert "warning" not in out
    assert (tmp_path / "marketer.duckdb").is_file()
