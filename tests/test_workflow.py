"""The researcher's workflow, driven as a user drives it: presets and config files, plots, videos,
the learning-rate sweep, the Python API and the TensorBoard names."""

import csv
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import asyncrl
from conftest import Result, assert_one_line_error


def run_cli(cwd, *args: str, timeout: float = 300) -> Result:
    proc = subprocess.run([sys.executable, "-m", "asyncrl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, "COLUMNS": "200"})
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two short CartPole A3C runs (seeds 1 and 2) and a short one-step Q run, trained once."""
    root = tmp_path_factory.mktemp("runs")
    for name, extra in (("a3c-1", ("--seed", "1")), ("a3c-2", ("--seed", "2")),
                        ("q", ("--algo", "one-step-q", "--seed", "1"))):
        result = run_cli(root, "train", "--env", "CartPole-v1", "--workers", "2", "--frames", "10k",
                         "--run-dir", name, "--quiet", *extra)
        assert result.returncode == 0, result.stderr
    return root


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


# -- plots ----------------------------------------------------------------------------------------

def test_plot_writes_a_png_of_the_documented_size(runs):
    result = run_cli(runs, "plot", "a3c-1", "a3c-2", "q", "-o", "curves.png")
    assert result.returncode == 0, result.stderr
    png = runs / "curves.png"
    assert png.stat().st_size > 20_000  # two panels of axes, lines and text, not an empty canvas
    assert png_size(png) == (1200, 450)

    result = run_cli(runs, "plot", "a3c-1", "a3c-2", "--label", "first", "--label", "second",
                     "--smooth", "5", "-o", "labelled.svg")
    assert result.returncode == 0, result.stderr
    svg = (runs / "labelled.svg").read_text()
    assert "first" in svg and "second" in svg


def test_plot_refuses_bad_input_with_one_line(runs, tmp_path):
    assert_one_line_error(run_cli(runs, "plot", str(tmp_path)), "not an asyncrl run directory")
    assert_one_line_error(run_cli(runs, "plot", "a3c-1", "a3c-2", "--label", "only-one"),
                          "1 labels for 2 run directories")
    assert_one_line_error(run_cli(runs, "plot", "a3c-1", "-o", str(tmp_path / "missing" / "x.png")),
                          "cannot write")


def test_curves_of_runs_sharing_a_label_average_over_the_range_all_cover():
    from asyncrl.plot import Curve, _on_grid, smooth

    assert smooth(np.array([1.0, 3.0, 5.0, 7.0]), 2).tolist() == [1.0, 2.0, 4.0, 6.0]
    a = Curve(None, "x", "CartPole-v1", np.array([0.0, 10.0]), np.zeros(2), np.array([0.0, 10.0]))
    b = Curve(None, "x", "CartPole-v1", np.array([0.0, 5.0]), np.zeros(2), np.array([0.0, 0.0]))
    grid, table = _on_grid([a.frames, b.frames], [a.returns, b.returns])
    assert grid[0] == 0 and grid[-1] == 10
    assert np.isnan(table[1][grid > 5]).all() and not np.isnan(table[0]).any()


# -- videos and scores ----------------------------------------------------------------------------

def test_play_prints_scores_and_records_a_video_that_reads_back(runs):
    import imageio.v2 as imageio

    result = run_cli(runs, "play", "a3c-1", "--episodes", "2", "--video", "agent.mp4")
    assert result.returncode == 0, result.stderr
    scores = [line for line in result.stdout.splitlines() if line.startswith("episode ")]
    assert len(scores) == 2 and "return" in scores[0]
    steps = sum(int(line.split(", ")[1].split()[0].replace(",", "")) for line in scores)

    reader = imageio.get_reader(runs / "agent.mp4")
    frames = [frame for frame in reader]
    assert reader.get_meta_data()["fps"] == 50  # CartPole's own rendering rate: real time
    # One frame per step plus each episode's last one.
    assert len(frames) == steps + 2
    assert frames[0].shape == (400, 600, 3) and frames[0].std() > 0
    assert f"{len(frames):,} frames" in result.stdout

    result = run_cli(runs, "play", "q")
    assert result.returncode == 0 and "episode 1: return" in result.stdout and "greedy" in result.stdout


def test_play_refuses_a_video_it_cannot_write(runs):
    result = run_cli(runs, "play", "a3c-1", "--video", "clip.txt")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert ".mp4" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (runs / "clip.txt").exists()


def test_the_reference_table_holds_the_57_games_with_their_sources():
    from asyncrl import scores

    assert len(scores.games()) == 57
    for env_id in ("ALE/Pong-v5", "PongNoFrameskip-v4", "ALE/Pong-ram-v5"):
        assert scores.lookup(env_id).game == "Pong"
    pong = scores.lookup("ALE/Pong-v5")
    assert (pong.random, pong.human) == (-20.7, 9.3)  # Nature DQN, no-op starts
    assert pong.paper == {"a3c_ff_1day": 11.4, "a3c_ff": 5.6, "a3c_lstm": 10.7}
    assert pong.normalize(9.3) == pytest.approx(100) and pong.normalize(-20.7) == pytest.approx(0)
    assert scores.lookup("ALE/MontezumaRevenge-v5").game == "MontezumaRevenge"
    assert scores.lookup("CartPole-v1") is None
    text = " ".join(scores.sources())
    assert "Nature" in text and "1602.01783" in text and "Table S3" in text


# -- presets and config files ---------------------------------------------------------------------

def resolved(cwd, *args: str) -> dict:
    result = run_cli(cwd, "train", "--print-config", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_presets_set_the_papers_settings_and_flags_override_them(tmp_path):
    lstm = resolved(tmp_path, "--preset", "atari-a3c-lstm", "--env", "ALE/Breakout-v5")
    assert lstm["algo"]["algo"] == "a3c" and lstm["net"]["core"] == "lstm" and lstm["net"]["lstm_cells"] == 256
    assert lstm["run"]["workers"] == 16 and lstm["run"]["frames"] == 80_000_000
    assert lstm["optim"] == {"lr": 7e-4, "lr_anneal": True, "lr_warmup_frames": 0, "rms_alpha": 0.99,
                             "rms_eps": 0.1, "rms_init": 0.0, "max_grad_norm": 40.0}
    assert lstm["env"]["terminal_on_life_loss"] is True and lstm["algo"]["t_max"] == 5
    assert lstm["net"]["init"] == "uniform" and lstm["run"]["envs_per_worker"] == 1

    q = resolved(tmp_path, "--preset", "atari-n-step-q", "--env", "ALE/Pong-v5", "--workers", "4")
    assert q["algo"]["algo"] == "n-step-q" and q["run"]["workers"] == 4
    assert q["algo"]["target_update"] == 40_000 and q["algo"]["epsilon_frames"] == 4_000_000

    mujoco = resolved(tmp_path, "--preset", "mujoco-a3c", "--env", "InvertedPendulum-v5")
    assert mujoco["net"]["hidden"] == [200] and mujoco["net"]["shared_torso"] is False
    assert mujoco["algo"]["entropy_beta"] == 1e-4 and mujoco["net"]["obs_norm"] is True

    assert_one_line_error(run_cli(tmp_path, "train", "--preset", "atari-a3c-ff", "--env", "CartPole-v1"),
                          "--preset atari-a3c-ff is for an Atari id")
    assert_one_line_error(run_cli(tmp_path, "train", "--preset", "mujoco-a3c", "--env", "ALE/Pong-v5"),
                          "--preset mujoco-a3c is for")


def test_a_config_file_overrides_the_preset_and_flags_override_the_file(tmp_path):
    (tmp_path / "exp.toml").write_text(
        'preset = "atari-one-step-q"\n\n[env]\nenv_id = "ALE/Pong-v5"\n\n'
        '[run]\nworkers = 8\nframes = "20M"\n\n[optim]\nlr = 1e-3\n\n[net]\nhidden = [64, 64]\n'
    )
    config = resolved(tmp_path, "--config", "exp.toml", "--workers", "2")
    assert config["algo"]["algo"] == "one-step-q" and config["algo"]["target_update"] == 40_000  # preset
    assert config["run"]["frames"] == 20_000_000 and config["optim"]["lr"] == 1e-3  # file over preset
    assert config["net"]["hidden"] == [200]  # no effect on Atari's conv net: recorded at its default
    assert config["run"]["workers"] == 2  # flag over file
    assert resolved(tmp_path, "--config", "exp.toml", "--preset", "atari-a3c-ff")["algo"]["algo"] == "a3c"


def test_config_json_stores_the_resolved_config_and_trains_again_from_it(runs, tmp_path):
    saved = json.loads((runs / "a3c-1" / "config.json").read_text())
    again = resolved(tmp_path, "--config", str(runs / "a3c-1" / "config.json"))
    saved["run"].pop("run_dir")
    assert again["run"].pop("run_dir") is None  # a new run gets a new directory
    assert again == {k: v for k, v in saved.items() if k not in ("tool", "version")}


@pytest.mark.parametrize(("text", "fragment"), [
    ("[run]\nworkerz = 2\n", "unknown setting run.workerz"),
    ("[run]\nworkers = \"two\"\n", "bad.toml: [run] workers must be an integer"),
    ("[optim]\nlr = true\n", "bad.toml: [optim] lr must be a finite number"),
    ("[training]\nlr = 1\n", "unknown section 'training'"),
    ("preset = \"atari-a4c\"\n", "unknown preset"),
    ("[run\n", "is not valid TOML"),
])
def test_a_bad_config_file_is_one_line(tmp_path, text, fragment):
    (tmp_path / "bad.toml").write_text(text)
    assert_one_line_error(run_cli(tmp_path, "train", "--config", "bad.toml", "--env", "CartPole-v1"), fragment)
    assert not (tmp_path / "runs").exists()


# -- the sweep ------------------------------------------------------------------------------------

def test_sweep_samples_log_uniform_rates_and_reports_the_top_mean(tmp_path):
    result = run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--workers", "1", "--frames", "3k",
                     "--runs", "3", "--top", "2", "--seed", "7", "--parallel", "3", "--sweep-dir", "sw")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    runs = summary["runs"]
    assert [r["seed"] for r in runs] == [7, 8, 9]
    assert all(r["status"] == "completed" for r in runs)
    rates = [r["lr"] for r in runs]
    assert all(1e-4 <= lr <= 1e-2 for lr in rates) and len(set(rates)) == 3
    for r in runs:  # each run trained with its own rate and seed, in its own run directory
        config = json.loads((tmp_path / "sw" / r["name"] / "config.json").read_text())
        assert config["optim"]["lr"] == r["lr"] and config["run"]["seed"] == r["seed"]
        final = json.loads((tmp_path / "sw" / r["name"] / "summary.json").read_text())
        assert r["score"] == final["mean_return_last_100"]
    best = sorted(runs, key=lambda r: r["score"], reverse=True)[:2]
    assert summary["top_runs"] == [r["name"] for r in best]
    assert summary["top_mean"] == pytest.approx(np.mean([r["score"] for r in best]))

    table = result.stdout.splitlines()
    assert any(line.startswith("top-2 mean score") and f"{summary['top_mean']:.2f}" in line for line in table)
    assert sum(line.strip().startswith(("1*", "2*", "3 ")) for line in table) == 3
    with open(tmp_path / "sw" / "sweep.csv") as f:
        assert [row["run"] for row in csv.DictReader(f)] == [r["name"] for r in best] + [
            r["name"] for r in runs if r not in best]
    assert png_size(tmp_path / "sw" / "sweep.png") == (1200, 450)

    # Resuming a finished sweep trains nothing and reports the same.
    again = run_cli(tmp_path, "sweep", "--sweep-dir", "sw", "--resume")
    assert again.returncode == 0 and "0 to train" in again.stdout
    assert json.loads((tmp_path / "sw" / "sweep.json").read_text())["top_mean"] == summary["top_mean"]
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--sweep-dir", "sw"), "not empty")


def test_sweep_refuses_what_it_decides_itself(tmp_path):
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--lr", "1e-3"), "leave out --lr")
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--run-dir", "x"),
                          "leave out --run-dir")
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--lr-min", "1e-2", "--lr-max", "1e-4"),
                          "0 < low < high")
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "NoSuchEnv-v0"), "unknown environment")
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--parallel", "0"),
                          "--parallel must be a positive integer")
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--backend", "ray", "--parallel", "2"),
                          "need one cluster to share")
    assert not (tmp_path / "runs").exists()  # refused before any sweep directory was made


def test_a_grid_sweep_trains_every_combination_and_reports_their_means(tmp_path):
    result = run_cli(tmp_path, "sweep", "--env", "CartPole-v1", "--workers", "1", "--frames", "2k",
                     "--grid", "rms-eps=0.1,1e-5", "--grid", "t-max=5,20", "--seed", "3",
                     "--lr", "2e-3", "--parallel", "2", "--sweep-dir", "grid")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "grid" / "sweep.json").read_text())
    assert summary["grid"] == {"rms-eps": [0.1, 1e-5], "t-max": [5, 20]} and summary["lr_range"] is None
    runs = summary["runs"]
    assert len(runs) == 4 and all(r["status"] == "completed" for r in runs)
    planned = {(r["settings"]["rms-eps"], r["settings"]["t-max"], r["seed"]) for r in runs}
    assert planned == {(eps, t, 3) for eps in (0.1, 1e-5) for t in (5, 20)}
    for r in runs:  # each run trained with its combination, the rest as given
        config = json.loads((tmp_path / "grid" / r["name"] / "config.json").read_text())
        assert config["optim"]["rms_eps"] == r["settings"]["rms-eps"]
        assert config["algo"]["t_max"] == r["settings"]["t-max"] and config["run"]["seed"] == 3
        assert config["optim"]["lr"] == 2e-3
        final = json.loads((tmp_path / "grid" / r["name"] / "summary.json").read_text())
        assert r["score"] == final["mean_return_last_100"]
    combos = summary["combinations"]
    assert len(combos) == 4 and [c["mean"] for c in combos] == sorted((c["mean"] for c in combos), reverse=True)
    assert f"mean {combos[0]['mean']:>8.2f}" in result.stdout and "rms-eps=0.1 t-max=5" in result.stdout
    with open(tmp_path / "grid" / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {"rms-eps", "t-max"} <= set(rows[0])
    assert png_size(tmp_path / "grid" / "sweep.png") == (1200, 450)


def test_a_grid_runs_each_combination_with_each_seed_and_averages_them(tmp_path):
    from asyncrl.sweep import Sweep, parse_grid

    config = asyncrl.TrainConfig(env=asyncrl.EnvConfig(env_id="CartPole-v1"), run=asyncrl.RunConfig(seed=5))
    grid = parse_grid(["entropy-beta=0.01,0.001", "envs-per-worker=1,4"])
    sweep = Sweep.create(config, 3, tmp_path / "plan", (1e-4, 1e-2), 5, grid)
    assert [(r.settings["entropy-beta"], r.settings["envs-per-worker"], r.seed) for r in sweep.runs] == [
        (beta, k, seed) for beta in (0.01, 0.001) for k in (1, 4) for seed in (5, 6, 7)]
    for run, score in zip(sweep.runs, range(12), strict=True):
        run.score, run.status = float(score), "completed"
        saved = json.loads((tmp_path / "plan" / "configs" / f"{run.name}.json").read_text())
        assert saved["algo"]["entropy_beta"] == run.settings["entropy-beta"]
        assert saved["run"]["envs_per_worker"] == run.settings["envs-per-worker"] and saved["run"]["seed"] == run.seed
    combos = sweep.summary()["combinations"]
    assert [c["mean"] for c in combos] == [10.0, 7.0, 4.0, 1.0]
    assert combos[0]["settings"] == {"entropy-beta": 0.001, "envs-per-worker": 4}


@pytest.mark.parametrize("args, fragment", [
    (("--grid", "rms-eps"), "FLAG=V1,V2"),
    (("--grid", "run-dir=a,b"), "cannot vary 'run-dir'"),
    (("--grid", "no-such=1,2"), "cannot vary 'no-such'"),
    (("--grid", "t-max=5,x"), "'x' is not an integer"),
    (("--grid", "lr=1e-3,abc"), "'abc' is not a number"),
    (("--grid", "t-max=5,5"), "repeats a value"),
    (("--grid", "lr=1e-3", "--lr", "1e-3"), "leave out --lr"),
    (("--grid", "t-max=5", "--runs", "2"), "--seeds"),
    (("--seeds", "2",), "without a grid"),
    (("--grid", "t-max=0,5"), "--t-max must be a positive integer"),
])
def test_a_bad_grid_is_refused_in_one_line_before_anything_trains(tmp_path, args, fragment):
    assert_one_line_error(run_cli(tmp_path, "sweep", "--env", "CartPole-v1", *args), fragment)
    assert not (tmp_path / "runs").exists()


def test_learning_rates_are_log_uniform():
    from asyncrl.sweep import sample_learning_rates

    logs = np.log10(sample_learning_rates(20_000, seed=0))
    assert logs.min() >= -4 and logs.max() <= -2
    # Uniform in log10(lr) on [-4, -2]: each decade holds half, each quarter-decade an eighth.
    assert abs(np.mean(logs < -3) - 0.5) < 0.02
    counts = np.histogram(logs, bins=8, range=(-4, -2))[0] / len(logs)
    assert np.all(np.abs(counts - 1 / 8) < 0.015)


# -- the Python API and TensorBoard ---------------------------------------------------------------

def test_load_gives_an_agent_that_acts_in_its_environment(runs):
    agent = asyncrl.load(runs / "a3c-1", deterministic=True)
    env = agent.make_env()
    obs, _ = env.reset(seed=0)
    agent.reset()
    total, done = 0.0, False
    while not done:
        action = agent.act(obs)
        assert isinstance(action, int) and env.action_space.contains(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        total += reward
        done = terminated or truncated
    env.close()
    assert total >= 1
    q = asyncrl.load(runs / "q")
    assert q.policy == "greedy" and q.checkpoint_frames >= 10_000

    result = asyncrl.evaluate(runs / "a3c-1", episodes=2, deterministic=True)
    assert len(result["returns"]) == 2 and result["human_normalized"] is None


def test_tensorboard_holds_the_conventional_scalars(runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def tags(run: str) -> set[str]:
        events = EventAccumulator(str(runs / run / "tb"))
        events.Reload()
        return set(events.Tags()["scalars"])

    common = {"charts/episodic_return", "charts/episodic_length", "charts/SPS", "charts/learning_rate",
              "losses/grad_norm"}
    assert common | {"losses/policy_loss", "losses/value_loss", "losses/entropy", "losses/value_spread",
                     "losses/explained_variance", "losses/pooled_explained_variance"} <= tags("a3c-1")
    assert not any("pooled/" in tag for tag in tags("a3c-1"))  # the sums it is pooled from stay in the learner
    assert common | {"losses/td_loss", "losses/q_values", "losses/q_spread", "charts/epsilon/learner_0",
                     "charts/epsilon/learner_1"} <= tags("q")


def test_the_presets_are_importable_configs():
    config = asyncrl.preset_config("atari-a3c-ff", "ALE/Pong-v5", workers=4)
    assert config.algo.algo == "a3c" and config.run.workers == 4 and config.optim.lr == 7e-4
    assert set(asyncrl.PRESETS) == {"atari-a3c-ff", "atari-a3c-lstm", "atari-one-step-q", "atari-one-step-sarsa",
                                    "atari-n-step-q", "mujoco-a3c"}
    assert math.isclose(config.optim.rms_eps, 0.1)


def test_a_warm_up_holds_the_logged_learning_rate_below_its_initial_value_and_rising(cli, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = cli("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "6k", "--lr", "1e-2",
                 "--no-lr-anneal", "--lr-warmup-frames", "12k", "--log-interval", "0.1", "--run-dir", "warm",
                 "--quiet")
    assert result.returncode == 0, result.stderr
    events = EventAccumulator(str(tmp_path / "warm" / "tb"))
    events.Reload()
    logged = [(e.step, e.value) for e in events.Scalars("charts/learning_rate")]
    assert len(logged) >= 2
    for frames, lr in logged:  # lr * frames / warm-up frames, at the frames of each report
        assert lr == pytest.approx(1e-2 * min(frames, 12_000) / 12_000, rel=0.05, abs=2e-4)
    assert logged[-1][1] > logged[0][1] and max(lr for _, lr in logged) < 1e-2 * 0.5 + 2e-4


def test_a_one_learner_run_is_reproduced_bit_for_bit_by_its_seed(cli, tmp_path):
    import torch

    def weights(name: str, seed: str) -> dict:
        # Long enough, and reporting often enough, that some updates are measured (at moments the
        # clock decides) and some are not.
        result = cli("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "10000", "--seed", seed,
                     "--log-interval", "0.1", "--run-dir", name, "--quiet")
        assert result.returncode == 0, result.stderr
        return torch.load(tmp_path / name / "checkpoint.pt", weights_only=False)["model"]

    first, again, other = weights("first", "3"), weights("again", "3"), weights("other", "4")
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)  # the same start, the same updates
    assert not all(torch.equal(first[k], other[k]) for k in first)
