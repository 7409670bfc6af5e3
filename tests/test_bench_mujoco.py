"""bench/mujoco.py end to end on a tiny budget: the JSON that results/ keeps and docs/results.md is generated from."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from asyncrl import defaults
from conftest import bench_module

BENCH = Path(__file__).parent.parent / "bench" / "mujoco.py"


def _bench(*args, cwd):
    return subprocess.run([sys.executable, str(BENCH), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


def test_mujoco_bench_trains_evaluates_and_records_each_seed(tmp_path, own_tempdir):
    out = tmp_path / "bench"
    baseline = ["--baseline", "sb3-a2c"] if importlib.util.find_spec("stable_baselines3") else []
    result = _bench("--env", "Pendulum-v1", "--seeds", "2", "--steps", "3000", "--minutes", "3",
                    "--eval-episodes", "2", "--out-dir", str(out), *baseline,
                    "--", "--workers", "2", "--reward-norm", "--obs-norm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "mujoco.json").read_text())
    assert report["env"] == "Pendulum-v1" and report["steps"] == 3000 and "cores" in report["machine"]
    assert report["command"].startswith("python bench/mujoco.py")
    (run,) = report["asyncrl"]
    assert run["seed"] == 2 and "--seed 2" in run["command"] and "--frames 3000" in run["command"]
    assert run["settings"]["net.reward_norm"] is True and run["settings"]["run.workers"] == 2
    # Each of the 2 learners may end the segment it is in (continuous actions' t_max) past the budget.
    t_max = defaults.row_for(("algo", "t_max"), "continuous", "a3c-ff").value
    assert run["status"] == "completed" and 3000 <= run["steps"] < 3000 + 2 * t_max
    assert run["steps_per_second"] > 0 and run["episodes"] >= 10 and run["final_mean_last_10"] < 0
    ev = run["evaluation"]
    assert ev["episodes"] == 2 and ev["policy"] == "gaussian mean" and -2000 < ev["mean"] <= 0
    assert ev["mean_length"] == 200 and ev["gait"] is None  # a pendulum is not a runner
    assert Path(run["curve"]).stat().st_size > 0 and Path(report["curves"]).stat().st_size > 0
    if baseline:
        (sb3,) = report["baseline"]
        assert report["baseline_name"] == "sb3-a2c" and report["baseline_budget"] == "wall-clock"
        # The Zoo's Pendulum rollout is 8 environments x 8 steps: SB3 ends on its first rollout past the budget.
        assert sb3["seed"] == 2 and 0 < sb3["steps"] < 3000 + 64 and "gae_lambda" in sb3["command"]
        assert sb3["evaluation"]["episodes"] == 2 and -2000 < sb3["evaluation"]["mean"] <= 0
        assert sb3["evaluation"]["mean_length"] == 200 and sb3["evaluation"]["gait"] is None
        assert "SB3 A2C" in result.stdout and "asyncrl" in result.stdout
        assert not list(own_tempdir.glob("SB3-*"))  # SB3's own logger folder: the bench keeps metrics.csv instead
    else:
        assert report["baseline"] is None


def test_mujoco_bench_says_how_a_planar_runner_moves_in_its_evaluation(tmp_path):
    out = tmp_path / "bench"
    result = _bench("--env", "Hopper-v5", "--seeds", "0", "--steps", "2000", "--minutes", "3",
                    "--eval-episodes", "3", "--out-dir", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = json.loads((out / "mujoco.json").read_text())["asyncrl"]
    ev = run["evaluation"]
    # An untrained Hopper falls within a few dozen steps: its episodes end when the torso tilts past
    # 0.2 rad, so it is upright until it falls, and the replay found the same episodes as evaluate.
    assert 1 < ev["mean_length"] < 1000 and ev["gait"]["upright"] == 1.0
    assert -3 < ev["gait"]["forward_velocity"] < 3
    assert "forward velocity" in result.stdout and "upright" in result.stdout


def test_the_gait_is_read_from_the_runners_root_joints():
    import gymnasium as gym
    import numpy as np

    bench = bench_module("common")
    for task, runner in (("HalfCheetah-v5", True), ("Walker2d-v5", True), ("InvertedPendulum-v5", False),
                         ("Pendulum-v1", False)):
        env = gym.make(task)
        assert bench.Gait.applies(env) is runner, task
        env.close()
    env = gym.make("HalfCheetah-v5")
    env.reset(seed=0)
    qpos, qvel = env.unwrapped.init_qpos.copy(), env.unwrapped.init_qvel.copy()
    gait = bench.Gait()
    for pitch, velocity in ((0.1, 2.0), (np.pi, 1.0), (-2.0, -0.5), (1.0, 3.5)):  # on its back twice
        qpos[2], qvel[0] = pitch, velocity
        env.unwrapped.set_state(qpos, qvel)
        gait(env)
    env.close()
    assert gait.summary() == {"forward_velocity": 1.5, "upright": 0.5}


def test_mujoco_bench_refuses_budget_flags_after_the_separator_and_an_existing_directory(tmp_path):
    taken = _bench("--steps", "1000", "--", "--frames", "5000", cwd=tmp_path)
    assert taken.returncode == 2 and "--steps" in taken.stderr and len(taken.stderr.splitlines()) == 1
    (tmp_path / "exists").mkdir()
    again = _bench("--out-dir", str(tmp_path / "exists"), cwd=tmp_path)
    assert again.returncode == 2 and "nothing is overwritten" in again.stderr


def test_the_bench_script_does_not_shadow_the_mujoco_package():
    # `python bench/mujoco.py` puts bench/ first on the import path, where this file's name is the
    # MuJoCo package's: the SB3 baseline's MuJoCo environments would import the script instead.
    code = (f"import runpy, sys\nsys.path.insert(0, {str(BENCH.parent)!r})\nsys.argv = ['mujoco.py', '--help']\n"
            f"try:\n    runpy.run_path({str(BENCH)!r}, run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "import mujoco\nprint(mujoco.MjModel.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip().endswith("MjModel"), result.stderr[-2000:]


def test_the_gait_script_watches_a_random_policy_and_refuses_nothing_to_watch(tmp_path):
    gait = BENCH.parent / "gait.py"
    run = subprocess.run([sys.executable, str(gait), "--env", "HalfCheetah-v5", "--random-sigma", "0.05",
                          "--episodes", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    (row,) = [line for line in run.stdout.splitlines() if line.startswith("| N(0")]
    # Barely moving, a HalfCheetah stays on its feet: upright throughout, not on its back at the end.
    assert row.split("|")[-3].strip() == "100%" and row.split("|")[-2].strip() == "0"
    empty = subprocess.run([sys.executable, str(gait)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           check=False)
    assert empty.returncode == 2 and len(empty.stderr.splitlines()) == 1
