"""bench/curve.py: a run's learning curve as a table, with the Q methods' games split by final epsilon."""

import csv
import subprocess
import sys
from pathlib import Path

CURVE = Path(__file__).parent.parent / "bench" / "curve.py"


def _metrics(run: Path, rows: list[tuple], header: tuple) -> None:
    run.mkdir()
    with open(run / "metrics.csv", "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])


def test_the_q_methods_games_are_averaged_per_final_epsilon_in_each_slice(tmp_path):
    header = ("frames", "wall_seconds", "worker", "return", "length", "env", "final_epsilon")
    # Two slices of 1,000 frames; the greedy-ish actors (0.01) score 10 then 20, the 0.5 ones 2 then 4.
    rows = [(100, 6, 0, 10, 50, 0, 0.01), (500, 30, 1, 2, 50, 1, 0.5), (900, 54, 0, 12, 50, 0, 0.01),
            (1200, 72, 1, 4, 50, 1, 0.5), (2000, 120, 0, 20, 50, 0, 0.01)]
    _metrics(tmp_path / "q", rows, header)
    result = subprocess.run([sys.executable, str(CURVE), str(tmp_path / "q"), "--points", "2"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("| frames | wall-clock | episodes in slice | mean return | return at ε 0.01 | "
                        "return at ε 0.5 |")
    assert lines[2] == "| 900 | 0.9 min | 3 | 8.0 | 11.0 | 2.0 |"
    assert lines[3] == "| 2,000 | 2.0 min | 2 | 12.0 | 20.0 | 4.0 |"


def test_runs_without_final_epsilons_have_only_the_overall_mean(tmp_path):
    # A3C's rows leave final_epsilon empty; a run from before the column existed has no such column.
    _metrics(tmp_path / "a3c", [(100, 6, 0, 1, 9, 0, ""), (200, 12, 1, 3, 9, 0, "")],
             ("frames", "wall_seconds", "worker", "return", "length", "env", "final_epsilon"))
    _metrics(tmp_path / "old", [(100, 6, 0, 1, 9), (200, 12, 1, 3, 9)],
             ("frames", "wall_seconds", "worker", "return", "length"))
    for run in ("a3c", "old"):
        result = subprocess.run([sys.executable, str(CURVE), str(tmp_path / run), "--points", "1"],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["| frames | wall-clock | episodes in slice | mean return |",
                                              "|---|---|---|---|", "| 200 | 0.2 min | 2 | 2.0 |"]


def test_a_path_that_is_no_run_or_a_run_without_games_is_refused_in_one_line(tmp_path):
    _metrics(tmp_path / "fresh", [], ("frames", "wall_seconds", "worker", "return", "length", "env", "final_epsilon"))
    for args, says in (([str(tmp_path / "missing")], "has no metrics.csv"),
                       ([str(tmp_path / "fresh")], "no finished episodes"),
                       ([str(tmp_path / "fresh"), "--points", "0"], "--points must be at least 1")):
        result = subprocess.run([sys.executable, str(CURVE), *args], capture_output=True, text=True, check=False)
        assert result.returncode == 2 and result.stdout == "", result.stderr
        assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
