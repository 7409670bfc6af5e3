"""bench/table.py: the method x game table of docs/BENCHMARKS.md from bench/atari.py's JSON."""

import json
import subprocess
import sys
from pathlib import Path

TABLE = Path(__file__).parent.parent / "bench" / "table.py"


def _bench_result(out: Path, seed: int, evaluation: float, flags: str, algo: str = "n-step-q",
                  baseline: float | None = None, workers: int = 2, stopped_after: float | None = None) -> Path:
    """What bench/atari.py leaves in --out-dir for one seed: atari.json and the run's config.json."""
    run_dir = out / f"asyncrl-seed{seed}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"tool": "asyncrl", "algo": {"algo": algo}, "net": {"core": "ff"},
                                                 "run": {"workers": workers, "seed": seed, "run_dir": str(run_dir)}}))
    command = f"python bench/atari.py --env ALE/Breakout-v5 --seeds {seed} --out-dir {out}"
    run = {"seed": seed, "run_dir": str(run_dir), "frames": 1000 * (seed + 1), "frames_per_second": 100.0,
           "command": f"asyncrl train --env ALE/Breakout-v5 --seed {seed} --max-seconds 3600 "
                      f"--run-dir {run_dir} --log-interval 60 {flags}",
           "evaluation": {"episodes": 30, "mean": evaluation},
           "status": "time_limit" if stopped_after is None else "return_reached",
           "train_seconds": 3600.0 if stopped_after is None else stopped_after}
    baselines = None if baseline is None else [
        {"seed": seed, "frames": 500, "frames_per_second": 10.0, "evaluation": {"episodes": 30, "mean": baseline}}]
    (out / "atari.json").write_text(json.dumps({
        "env": "ALE/Breakout-v5", "minutes": 60.0, "score": 18.0, "command": command, "asyncrl": [run],
        "baseline_name": None if baseline is None else "sb3-dqn", "baseline": baselines}))
    return out / "atari.json"


def _table(files: list[Path]) -> tuple[subprocess.CompletedProcess, list[str]]:
    """bench/table.py on the files: its output, and the table's Breakout rows."""
    result = subprocess.run([sys.executable, str(TABLE), *map(str, files)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result, [line for line in result.stdout.splitlines() if line.startswith("| Breakout")]


def test_seeds_of_one_setting_make_one_row_with_their_mean_and_spread(tmp_path):
    files = [
        _bench_result(tmp_path / "a", 0, 40.0, "--algo n-step-q", baseline=2.0),
        _bench_result(tmp_path / "b", 1, 60.0, "--algo n-step-q"),
        _bench_result(tmp_path / "c", 0, 10.0, "--algo one-step-q", algo="one-step-q"),
    ]
    result, rows = _table(files)
    assert len(rows) == 3, result.stdout
    n_step = next(r for r in rows if "| n-step Q |" in r)
    # Seeds 0 and 1 from two bench commands are one setting: mean 50, population std 10.
    assert "| 0, 1 |" in n_step and "50.0 ± 10.0" in n_step and "| 1,500 |" in n_step
    # Breakout's random 1.7 and human 31.8: (50 - 1.7) / (31.8 - 1.7) = 160.5 %.
    assert "| 1.7 | 31.8 | 160.5 % |" in n_step
    one_step = next(r for r in rows if "| one-step Q |" in r)
    assert "| 0 |" in one_step and "| 10.0 (30 episodes each) |" in one_step  # one seed: no spread
    assert any("| SB3 DQN |" in r and "| 2.0 (30 episodes each) |" in r for r in rows)
    assert result.stdout.count("- `python bench/atari.py") == 3  # every command that made the table


def test_the_same_flags_under_other_defaults_are_another_row_that_names_the_difference(tmp_path):
    # --algo n-step-q run once with the paper's 16 learners as its default and once with 2.
    files = [_bench_result(tmp_path / "old", 0, 1.0, "--algo n-step-q", workers=16),
             _bench_result(tmp_path / "new", 0, 50.0, "--algo n-step-q", workers=2),
             _bench_result(tmp_path / "new1", 1, 40.0, "--algo n-step-q", workers=2)]
    result, rows = _table(files)
    assert len(rows) == 2, result.stdout
    assert any("| --algo n-step-q [run.workers 16] | 0 |" in r and "| 1.0 (30" in r for r in rows)
    # The seeds (and run directories) differ within the new setting but do not split it.
    assert any("| --algo n-step-q [run.workers 2] | 0, 1 |" in r and "45.0 ± 5.0" in r for r in rows)


def test_runs_stopped_at_the_score_are_not_seeds_of_the_full_budget(tmp_path):
    files = [_bench_result(tmp_path / "full", 0, 20.0, "--lr 1e-3"),
             _bench_result(tmp_path / "early", 1, 18.0, "--lr 1e-3", stopped_after=1500.0),
             _bench_result(tmp_path / "early2", 2, 19.0, "--lr 1e-3", stopped_after=1800.0)]
    result, rows = _table(files)
    assert len(rows) == 2, result.stdout
    assert any("| 0 | 60 | 20.0 (30" in r for r in rows)
    # Seeds 1 and 2 stopped after 25 and 30 minutes: their row says so, with their mean.
    assert any("| 1, 2 | 27.5 of 60, stopped at 18 | 18.5 ± 0.5" in r for r in rows)


def test_a_missing_results_file_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run([sys.executable, str(TABLE), str(tmp_path / "nope.json")], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2 and "no such results file" in result.stderr
    assert "Traceback" not in result.stderr
