"""bench/table.py: the method x game table and docs/results.md from bench/atari.py's and bench/mujoco.py's JSON."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import bench_module

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


# --- docs/results.md and the README's table from results/ ---------------------------------------

REPO = TABLE.parent.parent
ATARI_KEYS = {"machine", "env", "minutes", "frames", "score", "window", "started", "command", "asyncrl",
              "baseline_name", "baseline", "curves"}
ATARI_RUN_KEYS = {"seed", "command", "run_dir", "settings", "status", "reached", "frames", "train_seconds",
                  "process_seconds", "frames_per_second", "episodes", "final_mean_last_10", "final_mean_last_100",
                  "evaluation", "curve"}
MUJOCO_KEYS = {"machine", "env", "steps", "minutes", "started", "command", "asyncrl", "baseline_name",
               "baseline_budget", "baseline", "curves"}
MUJOCO_RUN_KEYS = {"seed", "command", "run_dir", "settings", "status", "steps", "train_seconds", "process_seconds",
                   "steps_per_second", "episodes", "final_mean_last_10", "final_mean_last_100", "evaluation", "curve"}


def _recorded(env: str, flags: tuple[str, ...] = (), continuous: bool = False, **changed) -> dict:
    """The settings bench/atari.py (bare names) or bench/mujoco.py (group.name) records for a run of
    `asyncrl train --env ENV FLAGS` today, on a 2-core machine, with ``changed`` ones replaced."""
    table = bench_module("table")
    config = table.resolved(env, ("--workers", "2", *flags), continuous).to_dict()
    if continuous:
        names = {"run": ("workers", "envs_per_worker"), "optim": ("lr", "rms_eps", "max_grad_norm"),
                 "algo": ("t_max", "entropy_beta", "gamma"),
                 "net": ("hidden", "activation", "policy_std", "obs_norm", "reward_norm", "shared_torso")}
        settings = {f"{g}.{n}": json.loads(json.dumps(config[g][n])) for g, ns in names.items() for n in ns}
    else:
        settings = {n: config[g][n] for g, n in (("run", "workers"), ("run", "envs_per_worker"), ("optim", "lr"),
                                                   ("optim", "lr_anneal"), ("optim", "rms_eps"), ("optim", "rms_init"),
                                                   ("net", "init"), ("net", "q_init_gain"), ("algo", "t_max"),
                                                   ("algo", "entropy_beta"), ("run", "frames"),
                                                   ("env", "terminal_on_life_loss"), ("env", "vector_env"))}
    return {**settings, **changed}


def _atari_run(seed: int, mean: float, flags: str = "", env: str = "ALE/Breakout-v5", settings: dict | None = None,
               status: str = "time_limit", frames: int = 1_000_000, fps: float = 300.0) -> dict:
    run_dir = f"runs/x/asyncrl-seed{seed}"
    return {"seed": seed, "run_dir": run_dir,
            "command": f"asyncrl train --env {env} --seed {seed} --max-seconds 3600 --run-dir {run_dir} "
                       f"--log-interval 60 {flags}".strip(),
            "settings": _recorded(env, tuple(flags.split())) if settings is None else settings,
            "status": status, "reached": None, "frames": frames, "train_seconds": 3600.0, "process_seconds": 3700.0,
            "frames_per_second": fps, "episodes": 100, "final_mean_last_10": mean, "final_mean_last_100": mean,
            "evaluation": {"episodes": 30, "mean": mean, "std": 1.0, "min": mean - 1, "max": mean + 1,
                           "human_normalized": None, "truncated_episodes": 0}, "curve": None}


def _atari_json(results: Path, name: str, runs: list[dict], env: str = "ALE/Breakout-v5", minutes: float = 60.0,
                baseline: list[dict] | None = None, baseline_name: str | None = None, **extra) -> Path:
    """A results/atari/NAME.json as bench/atari.py writes it."""
    path = results / "atari" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "machine": "2 cores, Test CPU (AVX2), Python 3.11.7", "env": env, "minutes": minutes, "frames": None,
        "score": None, "window": 10, "started": "2026-12-06T10:00:00",
        "command": f"python bench/atari.py --env {env} --minutes {minutes:g} --out-dir runs/{name}",
        "asyncrl": runs, "baseline_name": baseline_name, "baseline": baseline, "curves": None, **extra}))
    return path


def _sb3_run(seed: int, mean: float, frames: int = 400_000, fps: float = 100.0) -> dict:
    return {"seed": seed, "command": "A2C('CnnPolicy', ...)", "run_dir": f"runs/x/sb3-a2c-seed{seed}",
            "frames": frames, "train_seconds": 3600.0, "frames_per_second": fps, "episodes": 10,
            "final_mean_last_10": mean, "final_mean_last_100": mean,
            "evaluation": {"episodes": 30, "mean": mean, "std": 0.5, "min": mean, "max": mean}}


def _rows(page: str, first_cell: str) -> list[str]:
    """The rows of the page's tables after the five games' summary, whose first cell is ``first_cell``."""
    page = page.split("## Atari: 60 minutes, method × game", 1)[-1]
    return [line for line in page.splitlines() if line.startswith(f"| {first_cell} |")]


def test_the_page_has_exactly_the_row_of_one_atari_json(tmp_path):
    _atari_json(tmp_path, "h1", [_atari_run(0, 40.0, fps=300.0), _atari_run(1, 60.0, frames=3_000_000, fps=500.0)],
                baseline=[_sb3_run(1, 2.0)], baseline_name="sb3-a2c")
    page = bench_module("table").results_page(tmp_path)
    assert page.splitlines()[0] == "<!-- generated by docs/generate.py from results/ — do not edit -->"
    assert "(experiments/README.md)" in page
    rows = _rows(page, "Breakout")
    assert len(rows) == 2, page
    # Seeds 0 and 1: mean 50, population std 10; Breakout's random 1.7 and human 31.8: 160.5 %.
    assert rows[0].startswith("| Breakout | A3C FF | 50.0 ± 10.0 (40.0, 60.0) | 0, 1 | 2,000,000 | 60 | 300, 500 | "
                              "160.5 % | `python bench/atari.py --env ALE/Breakout-v5 --minutes 60 --out-dir "
                              "runs/h1` | 2 cores, Test CPU (AVX2), Python 3.11.7 | no | [h1](../results/atari/h1.json) |")
    assert rows[1].startswith("| Breakout | SB3 A2C | 2.0 | 1 | 400,000 | 60 | 100 | 1.0 % |")
    assert "†" not in page and "Not shown" not in page and "hand-entered" not in page


def test_a_hand_entered_file_is_marked_and_its_unknown_numbers_are_dashes(tmp_path):
    run = _atari_run(0, 20.0, env="ALE/Pong-v5")
    run["evaluation"]["std"] = run["frames_per_second"] = None
    run["settings"]["vector_env"] = False  # run on Gymnasium's pipeline, which learns no less per frame
    _atari_json(tmp_path, "h2", [run], env="ALE/Pong-v5", entered_by_hand="docs/experiments/atari-a3c-ff.md, section: Pong")
    page = bench_module("table").results_page(tmp_path)
    (row,) = _rows(page, "Pong")
    assert "| A3C FF † | 20.1 |" not in row and "| A3C FF † | 20.0 | 0 | 1,000,000 | 60 | — |" in row
    assert row.endswith("| yes | [h2](../results/atari/h2.json) |")
    assert "† run on Gymnasium's Atari pipeline" in page
    assert "- docs/experiments/atari-a3c-ff.md, section: Pong: `atari/h2.json`" in page


def test_results_under_other_settings_or_budgets_are_left_out_of_the_page(tmp_path):
    lstm = ("--net", "lstm")
    _atari_json(tmp_path, "today", [_atari_run(0, 150.0, "--net lstm"),
                                    # flags that restate a default are today's setting too
                                    _atari_run(1, 160.0, "--net lstm --no-lr-anneal --lr 1e-4")])
    _atari_json(tmp_path, "old", [
        # A3C LSTM's defaults until 2026-12-04: the same flags, the lr annealed
        _atari_run(2, 74.0, "--net lstm", settings=_recorded("ALE/Breakout-v5", lstm, lr_anneal=True)),
        _atari_run(3, 1.0, "--net lstm --lr 7e-4"),  # a flag that is not a default
        _atari_run(4, 99.0, "--net lstm", status="return_reached"),  # stopped at its --score
        _atari_run(5, 98.0, "--net lstm", settings=_recorded("ALE/Breakout-v5", lstm, workers=16)),
    ])
    _atari_json(tmp_path, "short", [_atari_run(6, 50.0, "--net lstm")], minutes=15.0)
    table = bench_module("table")
    page = table.results_page(tmp_path)
    (row,) = _rows(page, "Breakout")
    assert "| A3C LSTM | 155.0 ± 5.0 (150.0, 160.0) | 0, 1 |" in row
    not_shown = page[page.index("## Not shown"):]
    assert "atari/old.json, seed 2: optim.lr_anneal true (today false)" in not_shown
    assert "atari/old.json, seed 3: optim.lr 0.0007 (today 0.0001)" in not_shown
    assert not_shown.count("optim.lr 0.0007") == 1  # flagged and recorded both: told once
    assert "atari/old.json, seed 4: stopped at its score" in not_shown
    (seed5,) = [line for line in not_shown.splitlines() if line.startswith("- atari/old.json, seed 5: ")]
    assert seed5.endswith("run.workers 16 (today's default on 2 cores: 2)")
    assert "atari/short.json: a budget of 15 minutes" in not_shown
    for score in ("74.0", "98.0", "99.0", "(50.0"):
        assert score not in row
    assert all(score not in table.readme_results(tmp_path) for score in ("74.0", "98.0", "99.0"))


def _mujoco_json(results: Path, name: str, env: str, seeds_means: list[tuple[int, float]], flags: str = "",
                 baseline: list[tuple[int, float]] | None = None, **changed) -> Path:
    runs = []
    for seed, mean in seeds_means:
        run_dir = f"runs/{name}/asyncrl-seed{seed}"
        runs.append({"seed": seed, "run_dir": run_dir,
                     "command": f"asyncrl train --env {env} --seed {seed} --frames 1000000 --max-seconds 720 "
                                f"--run-dir {run_dir} --log-interval 60 {flags}".strip(),
                     "settings": _recorded(env, tuple(flags.split()), continuous=True, **changed),
                     "status": "completed", "steps": 1_000_020, "train_seconds": 120.0, "process_seconds": 130.0,
                     "steps_per_second": 8000.0, "episodes": 1000, "final_mean_last_10": mean,
                     "final_mean_last_100": mean,
                     "evaluation": {"episodes": 10, "policy": "mean action", "mean": mean, "std": 5.0, "min": mean,
                                    "max": mean, "mean_length": 1000.0, "gait": None}, "curve": None})
    sb3 = [{"seed": seed, "command": "A2C('MlpPolicy', ...)", "run_dir": f"runs/{name}/sb3-a2c-seed{seed}",
            "steps": 200_000, "train_seconds": 120.0, "steps_per_second": 1600.0, "episodes": 100,
            "final_mean_last_10": mean, "final_mean_last_100": mean,
            "evaluation": {"episodes": 10, "policy": "mean action", "mean": mean, "std": 1.0, "min": mean,
                           "max": mean, "mean_length": 1000.0, "gait": None}} for seed, mean in baseline or []]
    path = results / "mujoco" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "machine": "2 cores, Test CPU, Python 3.11.7", "env": env, "steps": 1_000_000, "minutes": 12.0,
        "started": "2026-12-06T10:00:00", "command": f"python bench/mujoco.py --env {env} --out-dir runs/{name}",
        "asyncrl": runs, "baseline_name": "sb3-a2c" if baseline else None,
        "baseline_budget": "wall-clock" if baseline else None, "baseline": sb3 if baseline else None,
        "curves": None}))
    return path


def _speed_json(results: Path, name: str, entry: str, ours: list[float], theirs: list[float]) -> Path:
    path = results / "speed" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "machine": "2 cores, Test CPU, Python 3.11.7", "seconds": 60.0,
        "asyncrl_command": f"asyncrl train --algo {entry} --env ALE/Pong-v5",
        "asyncrl": [{"workers": 2, "steady_fps": fps, "overall_fps": fps, "frames": 1, "process_seconds": 1.0}
                    for fps in ours],
        "sb3_a2c": [{"fps": fps, "frames": 1} for fps in theirs], "ratio": None}))
    return path


def test_mujoco_with_sb3_a2c_beside_and_the_speed_against_it(tmp_path):
    _mujoco_json(tmp_path, "m1", "HalfCheetah-v5", [(0, 4000.0), (1, 5000.0)], "--t-max 20")
    _mujoco_json(tmp_path, "m2", "HalfCheetah-v5", [(2, 6000.0)], baseline=[(2, 3000.0)])
    _mujoco_json(tmp_path, "m3", "HalfCheetah-v5", [(3, 1.0)], baseline=[(3, 2.0)], **{"algo.t_max": 5})
    _speed_json(tmp_path, "s1", "a3c", [9000.0, 10000.0, 11000.0], [4000.0, 5000.0, 3000.0])
    _speed_json(tmp_path, "s2", "a3c --preset atari-a3c-ff --envs-per-worker 16", [1.0], [1.0])
    page = bench_module("table").results_page(tmp_path)
    rows = _rows(page, "HalfCheetah-v5")
    assert len(rows) == 3, page
    assert rows[0].startswith("| HalfCheetah-v5 | A3C | 1,000,020 (1M) | 5,000.0 ± 816.5 (4,000.0, 5,000.0, 6,000.0) "
                              "| 0, 1, 2 | 2.0, 2.0, 2.0 | 8,000, 8,000, 8,000 |")
    assert rows[1].startswith("| HalfCheetah-v5 | A3C, the runs beside SB3 A2C | 1,000,020 (1M) | 6,000.0 | 2 |")
    assert rows[2].startswith("| HalfCheetah-v5 | SB3 A2C | 200,000 (1M) | 3,000.0 | 2 | 2.0 | 1,600 |")
    # The run with t_max 5 (the default until 2026-12-05) and the SB3 A2C run beside it are not shown.
    assert "mujoco/m3.json, seed 3: algo.t_max 5 (today 20)" in page
    (speed,) = _rows(page, "Pong")
    assert "| 10,000 (9,000, 10,000, 11,000) | 4,000 (4,000, 5,000, 3,000) | 2.50× | 60 |" in speed
    assert "- speed/s2.json: " in page and "run.envs_per_worker 16 (today 8)" in page  # the preset is not the defaults
    readme = bench_module("table").readme_results(tmp_path)
    assert "| HalfCheetah-v5, 1M steps | A3C 5,000.0 ± 816.5 (3 runs) | SB3 A2C 3,000.0 (1 seed), the same 2.0 " \
           "minutes; A3C's run beside it: 6,000.0 |" in readme
    assert "| Pong, training speed | 10,000 frames/s, the default command (median of 3) |" in readme


def test_the_readme_table_has_at_most_ten_rows_and_the_headline(tmp_path):
    methods = {"": "A3C FF", "--net lstm": "A3C LSTM", "--algo n-step-q": "n-step Q",
               "--algo one-step-q": "one-step Q", "--algo one-step-sarsa": "one-step Sarsa"}
    for game in ("Pong", "Breakout", "SpaceInvaders", "Seaquest"):
        env = f"ALE/{game}-v5"
        for i, flags in enumerate(methods):
            baseline = {0: "sb3-a2c", 4: "sb3-dqn"}.get(i)
            _atari_json(tmp_path, f"{game}-{i}", [_atari_run(0, 10.0 * i, flags, env=env)], env=env,
                        baseline=[_sb3_run(0, -1.0)] if baseline else None, baseline_name=baseline)
    for task in ("HalfCheetah-v5", "Hopper-v5", "InvertedPendulum-v5", "Pendulum-v1"):
        _mujoco_json(tmp_path, task, task, [(0, 100.0)], baseline=[(0, 50.0)])
    _speed_json(tmp_path, "s1", "a3c", [9000.0], [3000.0])
    readme = bench_module("table").readme_results(tmp_path)
    lines = readme.strip().splitlines()
    assert all(line.startswith("|") and line.endswith("|") for line in lines)  # a markdown table only
    assert 3 <= len(lines) <= 12, readme  # the header, its rule and at most 10 rows
    assert "| Pong, 60 minutes | A3C FF 0.0 (1 seed) | SB3 A2C -1.0 (1 seed) |" in readme
    # The best other method of each game (one-step Sarsa's 40 here), with SB3 DQN beside a Q method.
    assert "| Breakout, 60 minutes | one-step Sarsa 40.0 (1 seed) | SB3 DQN -1.0 (1 seed) |" in readme
    assert "Seaquest" not in readme and "Pendulum" not in readme
    assert "| Hopper-v5, 1M steps | A3C 100.0 (1 run) |" in readme and "| 3.00× SB3 A2C's frames/s |" in readme


def test_page_prints_from_the_command_line(tmp_path):
    _atari_json(tmp_path, "h1", [_atari_run(0, 40.0)])
    result = subprocess.run([sys.executable, str(TABLE), "--page", "--results", str(tmp_path)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == bench_module("table").results_page(tmp_path)
    missing = subprocess.run([sys.executable, str(TABLE), "--page", "--results", str(tmp_path / "nope")],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 2 and "no such results directory" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_committed_results_are_the_benches_schemas_and_all_of_today(tmp_path):
    results = REPO / "results"
    for path in sorted((results / "atari").glob("*.json")):
        data = json.loads(path.read_text())
        assert set(data) - {"entered_by_hand"} == ATARI_KEYS, path
        # curve_points: kept since 2026-12-07; the files written before have none
        assert all(set(run) - {"curve_points"} == ATARI_RUN_KEYS for run in data["asyncrl"]), path
    for path in sorted((results / "mujoco").glob("*.json")):
        data = json.loads(path.read_text())
        assert set(data) - {"entered_by_hand"} == MUJOCO_KEYS, path
        assert all(set(run) == MUJOCO_RUN_KEYS for run in data["asyncrl"]), path
    files = sorted((results).glob("*/*.json"))
    assert files
    for path in files:
        data = json.loads(path.read_text())
        if "entered_by_hand" in data:  # a section of the experiment record, on the 2-core host
            record, _, section = data["entered_by_hand"].partition(", section: ")
            assert record.startswith("docs/experiments/") and data["machine"] == "2-core CPU host", path
            text = (REPO / record).read_text()
            assert section.split(" › ")[0].split(" (docs/BENCHMARKS.md")[0] in text, path
    table = bench_module("table")
    page = table.results_page(REPO)
    assert page == table.results_page(results)
    assert "## Not shown" not in page  # every committed result is of today's defaults
    assert all(f"../results/{p.relative_to(results).as_posix()})" in page for p in files)
    readme = table.readme_results(REPO).strip().splitlines()
    assert len(readme) <= 12 and all(line.startswith(("| ", "|---")) for line in readme)
    assert (REPO / "docs" / "results.md").read_text().splitlines()[0] == page.splitlines()[0]


def _curve(minutes: int, per_minute: float, frames_per_minute: int) -> list[list[float]]:
    return [[float(m), m * frames_per_minute, per_minute * m] for m in range(1, minutes + 1)]


def test_the_five_games_are_one_table_and_one_figure_of_every_methods_curves(tmp_path):
    """The paper's five games x its methods: a cell per game and method from the rows of the page,
    and a figure of the seeds' mean curves, by minutes and by frames."""
    table = bench_module("table")
    ff = [_atari_run(s, mean, env="ALE/BeamRider-v5", frames=20_000_000) for s, mean in ((0, 3000.0), (1, 5000.0))]
    ff[0]["curve_points"] = _curve(60, 50.0, 300_000)
    ff[1]["curve_points"] = _curve(58, 80.0, 350_000)
    sb3 = _sb3_run(0, 900.0, frames=9_000_000)
    _atari_json(tmp_path, "h80", ff, env="ALE/BeamRider-v5", baseline=[sb3], baseline_name="sb3-a2c")
    nq = _atari_run(0, 20.0, "--algo n-step-q", env="ALE/Pong-v5")  # kept no curve: a dot alone
    _atari_json(tmp_path, "h81", [nq], env="ALE/Pong-v5")
    page = table.results_page(tmp_path)
    grid = page.split("## Atari: the paper's five games, 60 minutes", 1)[1].split("##", 1)[0]
    lines = [line for line in grid.splitlines() if line.startswith("| ")]
    assert lines[0] == ("| game | A3C FF | A3C LSTM | n-step Q | one-step Q | one-step Sarsa | SB3 A2C | random / human "
                        "| the paper's A3C FF, 1 day |")
    assert [line.split(" | ")[0] for line in lines[1:]] == ["| BeamRider", "| Breakout", "| Pong", "| Qbert",
                                                             "| SpaceInvaders"]
    beam = lines[1].split(" | ")
    # (4000 - 363.9) / (5774.7 - 363.9) = 67 %; SB3 A2C (900 - 363.9) / 5410.8 = 10 %.
    assert beam[1] == "4,000.0 (67 %), 2 seeds; 20.0M frames at 0.3k/s" and beam[2] == "—"
    assert beam[6].startswith("900.0 (10 %), 1 seed; 9.0M frames") and beam[8] == "13,235.9 |"
    assert lines[3].split(" | ")[3].startswith("20.0 (136 %), 1 seed")  # Pong: (20 + 20.7) / 30
    assert "BeamRider 3,031.7" in grid and "figure" not in grid.lower()  # no figure drawn yet: none linked

    figure = bench_module("figure")
    curves = [np.asarray(r["curve_points"]) for r in ff]
    minutes, means = figure.mean_by_minutes(curves)
    assert minutes[0] == 1 and minutes[-1] == 58  # where both seeds have a point
    assert means[0] == 65.0 and means[-1] == (50.0 * 58 + 80.0 * 58) / 2
    frames, means = figure.mean_by_frames(curves, points=5)
    assert frames[0] == 350_000 and frames[-1] == 60 * 300_000  # from the latest first point to the fewest frames
    assert means[-1] == pytest.approx((50.0 * 60 + 80.0 * 18_000_000 / 350_000) / 2)

    out = tmp_path / "five.png"
    drawn = subprocess.run([sys.executable, str(TABLE), "--figure", str(out), "--results", str(tmp_path)],
                           capture_output=True, text=True, check=False)
    assert drawn.returncode == 0, drawn.stderr
    # The baseline's run and Pong's n-step Q kept no curve: each is its final evaluation's dot.
    assert out.stat().st_size > 0 and "a dot alone: BeamRider SB3 A2C, Pong n-step Q" in drawn.stdout
    nowhere = subprocess.run([sys.executable, str(TABLE), "--figure", str(tmp_path / "no" / "five.png"), "--results",
                              str(tmp_path)], capture_output=True, text=True, check=False)
    assert nowhere.returncode == 2 and nowhere.stderr.strip().splitlines() == [
        f"table.py: no such directory for the figure: {tmp_path / 'no'}"]
