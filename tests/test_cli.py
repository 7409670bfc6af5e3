"""The command line end to end, as a user drives it."""

import csv
import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from conftest import assert_one_line_error, long_training


def test_train_on_atari_writes_the_run_directory_and_evaluate_reports_json(cli, tmp_path):
    run = tmp_path / "pong"
    result = cli("train", "--algo", "a3c", "--env", "ALE/Pong-v5", "--workers", "2", "--frames", "4000",
                 "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    assert "frames/s" in result.stdout and "completed" in result.stdout

    config = json.loads((run / "config.json").read_text())
    assert config["env"]["env_id"] == "ALE/Pong-v5" and config["run"]["workers"] == 2
    a3c = {"algo": "a3c", "t_max": 5, "gamma": 0.99, "entropy_beta": 0.01, "value_loss_coef": 0.5}
    assert {k: config["algo"][k] for k in a3c} == a3c
    # A3C FF on Atari: the paper's lr and clip, RMSProp stepped as the Pong runs chose (issue 15).
    assert config["optim"] == {"lr": 7e-4, "lr_anneal": True, "lr_warmup_frames": 0, "rms_alpha": 0.99,
                               "rms_eps": 1e-5, "rms_init": 1.0, "max_grad_norm": 40.0}
    with open(run / "metrics.csv") as f:
        assert next(csv.reader(f)) == ["frames", "wall_seconds", "worker", "return", "length", "env",
                                       "final_epsilon"]
    assert any((run / "tb").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["frames"] >= 4000 and summary["frames_per_second"] > 0
    for key in ("wall_seconds", "episodes", "mean_return_last_100"):
        assert key in summary
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert checkpoint["frames"] == summary["frames"]

    result = cli("evaluate", str(run), "--episodes", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["env"] == "ALE/Pong-v5" and report["episodes"] == 1
    assert len(report["returns"]) == 1 and -21 <= report["mean_return"] <= 21
    assert report["std_return"] == 0.0
    # The no-op-starts protocol, and the score against the paper's reference table.
    assert report["noop_max"] == 30 and report["max_episode_frames"] == 18_000
    assert report["human_normalized"] == pytest.approx(100 * (report["mean_return"] + 20.7) / (9.3 + 20.7))
    assert report["reference"]["paper"] == {"a3c_ff_1day": 11.4, "a3c_ff": 5.6, "a3c_lstm": 10.7}

    result = cli("evaluate", str(run), "--episodes", "1")
    assert result.returncode == 0 and "mean return" in result.stdout and "no-op starts" in result.stdout
    assert f"human-normalised score {report['human_normalized']:.1f} %" in result.stdout
    assert "A3C FF 5.6" in result.stdout and "A3C LSTM 10.7" in result.stdout


def test_a_non_empty_run_directory_is_never_overwritten(cli, tmp_path):
    run = tmp_path / "taken"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    result = cli("train", "--env", "CartPole-v1", "--frames", "1000", "--run-dir", str(run))
    assert_one_line_error(result, "not empty", "--resume")
    assert os.listdir(run) == ["notes.txt"] and (run / "notes.txt").read_text() == "mine"

    result = cli("train", "--run-dir", str(run), "--resume")
    assert_one_line_error(result, "not an asyncrl run directory")


def test_resume_continues_parameters_optimiser_and_frame_counter(cli, tmp_path):
    run = tmp_path / "cartpole"
    first = cli("train", "--env", "CartPole-v1", "--workers", "2", "--frames", "3000", "--run-dir", str(run))
    assert first.returncode == 0, first.stderr
    before = torch.load(run / "checkpoint.pt", weights_only=True)
    # As a run begun before metrics.csv had its env and final_epsilon columns left it: resuming
    # goes on with the file's own five columns.
    with open(run / "metrics.csv", newline="") as f:
        old = [row[:5] for row in csv.reader(f)]
    with open(run / "metrics.csv", "w", newline="") as f:
        csv.writer(f).writerows(old)
    rows_before = (run / "metrics.csv").read_text().splitlines()

    again = cli("train", "--env", "CartPole-v1", "--frames", "3000", "--run-dir", str(run))
    assert_one_line_error(again, "not empty")

    conflict = cli("train", "--run-dir", str(run), "--resume", "--gamma", "0.9")
    assert_one_line_error(conflict, "--gamma", "saved 0.99", "requested 0.9")

    second = cli("train", "--run-dir", str(run), "--resume", "--frames", "6000")
    assert second.returncode == 0, second.stderr
    after = torch.load(run / "checkpoint.pt", weights_only=True)
    previous = torch.load(run / "checkpoint.prev.pt", weights_only=True)
    assert after["frames"] >= 6000 > before["frames"] >= 3000
    assert previous["frames"] <= after["frames"]
    assert json.loads((run / "config.json").read_text())["run"]["frames"] == 6000
    rows_after = (run / "metrics.csv").read_text().splitlines()
    assert rows_after[: len(rows_before)] == rows_before and len(rows_after) > len(rows_before)
    assert rows_after.count(rows_after[0]) == 1  # the header is written once
    assert all(len(row) == 5 for row in csv.reader(rows_after))
    assert after["wall_seconds"] > before["wall_seconds"]
    assert not torch.equal(after["model"]["head.value.weight"], before["model"]["head.value.weight"])

    done = cli("train", "--run-dir", str(run), "--resume")
    assert_one_line_error(done, "larger --frames")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--env", "CartPol-v1"], ["unknown environment", "CartPole-v1"]),
        (["--env", "no_such_module:Thing-v0"], ["cannot import", "no_such_module"]),
        (["--env", "Pendulum-v1", "--algo", "one-step-q"], ["continuous actions", "Discrete", "a3c"]),
        (["--env", "CartPole-v1", "--algo", "n-step-q", "--net", "lstm"], ["--net lstm", "a3c"]),
        (["--env", "CartPole-v1", "--net", "gru"], ["--net", "gru", "lstm"]),
        (["--env", "CartPole-v1", "--lr-warmup-frames=--"], ["--lr-warmup-frames", "expected one argument"]),
        (["--env", "CartPole-v1", "--ray-shards", "0", "--backend", "ray"], ["--ray-shards", "positive"]),
        (["--env", "CartPole-v1", "--exchange-rate", "inf"], ["--exchange-rate", "positive number"]),
        (["--env", "ALE/Pong-v5", "--obs-norm"], ["--obs-norm", "vector observations"]),
        (["--env", "Pendulum-v1", "--min-var", "0"], ["--min-var", "positive"]),
        (["--env", "Pendulum-v1", "--policy-std", "wide"], ["--policy-std", "'softplus', 'log-std'"]),
        (["--env", "Pendulum-v1", "--activation", "gelu"], ["--activation", "'relu', 'tanh'"]),
        (["--env", "ALE/Pong-v5", "--reward-norm"], ["--reward-norm", "clipped"]),
        (["--env", "CartPole-v1", "--algo", "n-step-q", "--init", "orthogonal", "--q-init-gain", "0"],
         ["--q-init-gain", "positive"]),
        (["--env", "CartPole-v1", "--q-init-gain", "0.01", "--init", "orthogonal"], ["--q-init-gain", "Q method"]),
        (["--env", "CartPole-v1", "--algo", "n-step-q", "--q-init-gain", "0.01"], ["--q-init-gain", "--init orthogonal"]),
        (["--env", "Blackjack-v1"], ["observation space", "not supported"]),
        (["--env", "CartPole-v1", "--gamma", "1.5"], ["--gamma", "1.5"]),
        (["--env", "CartPole-v1", "--lr", "-1"], ["--lr"]),
        (["--env", "CartPole-v1", "--workers", "0"], ["--workers"]),
        (["--env", "CartPole-v1", "--frames", "lots"], ["--frames", "lots"]),
        (["--env", "CartPole-v1", "--algo", "ppo"], ["--algo", "ppo"]),
        (["--env", "CartPole-v1", "--stop-episodes", "0"], ["--stop-episodes"]),
        (["--env", "CartPole-v1", "--stop-at-return", "nan"], ["--stop-at-return"]),
        (["--env", "CartPole-v1", "--run-dir", "/proc/asyncrl-run"], ["not writable"]),
        ([], ["--env is required"]),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_code_2(cli, args, fragments):
    assert_one_line_error(cli("train", *args), *fragments)


def test_evaluate_without_a_run_directory_is_a_clear_error(cli, tmp_path):
    assert_one_line_error(cli("evaluate", str(tmp_path / "missing")), "not an asyncrl run directory")


@pytest.mark.parametrize("argv, code", [
    (["train", "--env", "CartPole-v1", "--frames", "0"], 2),
    (["train", "--env", "CartPole-v2"], 2),
    (["train", "--env", "ALE/Pong-v5", "--print-config"], 0),
    (["evaluate", "missing"], 2),
    (["play", "missing", "--episodes", "1"], 2),
    (["plot", "missing", "--smooth", "0"], 2),
])
def test_a_refused_command_line_and_print_config_answer_before_pytorch_is_imported(tmp_path, argv, code):
    """A typo costs a fraction of a second, not PyTorch's import (seconds on a busy machine)."""
    script = ("import sys\nfrom asyncrl.cli import main\ncode = main(sys.argv[1:])\n"
              "print('PyTorch imported:', 'torch' in sys.modules)\nsys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", script, *argv], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.splitlines()[-1] == "PyTorch imported: False", proc.stdout[-500:]
    assert code == 0 or len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_help_shows_every_hyperparameter_with_its_default_and_the_papers(cli):
    result = cli("train", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # as read, whatever the width argparse wrapped it to
    for flag, default in [("--lr", ("7e-4 (one-step Q and Sarsa 2e-3; A3C LSTM 1e-4) for Atari, 1e-3 (A3C FF 3e-3) "
                                   "for vector, 3.5e-4 for continuous; paper 7e-4")),
                          ("--gamma", "0.99"), ("--t-max", "5 for Atari and vector, 20 for continuous; paper 5"),
                          ("--rms-eps", "1e-5 for Atari and continuous, 0.1 for vector; paper 0.1"),
                          ("--rms-alpha", "0.99"), ("--[no-]vector-env", "on; paper off"),
                          ("--init", "orthogonal for Atari and continuous, uniform for vector; paper uniform"),
                          ("--workers", ("one per core, at most 16 for Atari, one per core for vector and "
                                        "continuous; paper 16"))]:
        assert flag in text
        assert f"(default {default})" in text, flag
    assert "{a3c,one-step-q,one-step-sarsa,n-step-q}" in text and "{ff,lstm}" in text  # choices shown
    assert "docs/BENCHMARKS.md" not in text and "minutes" not in text  # no measurements in the help


def test_train_help_fits_150_lines_at_80_columns():
    result = subprocess.run([sys.executable, "-m", "asyncrl", "train", "--help"], capture_output=True, text=True, check=False,
                            env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) <= 150
    assert "examples:" in result.stdout and "docs/defaults.md" in result.stdout
    assert max(map(len, result.stdout.splitlines())) <= 80


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_stops_cleanly_with_a_final_checkpoint_and_summary(tmp_path, sig):
    run = tmp_path / "interrupted"
    with long_training(run) as proc:
        learners = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "spawn_main"],
                                  capture_output=True, text=True, check=False).stdout.split()
        assert learners
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert not [pid for pid in learners if os.path.exists(f"/proc/{pid}")], "learners outlived the trainer"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted" and 0 < summary["frames"] < 50_000_000
    assert torch.load(run / "checkpoint.pt", weights_only=True)["frames"] == summary["frames"]


@pytest.mark.parametrize("algo", ["one-step-q", "one-step-sarsa", "n-step-q"])
def test_q_methods_train_and_evaluate_epsilon_greedily_from_the_cli(cli, tmp_path, algo):
    run = tmp_path / algo
    result = cli("train", "--algo", algo, "--env", "CartPole-v1", "--workers", "2", "--frames", "3000",
                 "--target-update", "500", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert set(checkpoint["target_model"]) == set(checkpoint["model"])

    greedy = json.loads(cli("evaluate", str(run), "--episodes", "1", "--json").stdout)
    assert greedy["algo"] == algo and greedy["policy"] == "greedy"
    noisy = cli("evaluate", str(run), "--episodes", "1", "--epsilon", "0.05")
    assert noisy.returncode == 0 and "epsilon-greedy (epsilon=0.05)" in noisy.stdout


def test_a_q_run_logs_the_final_epsilon_it_drew_for_every_environment(cli, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "--algo", "n-step-q", "--env", "CartPole-v1", "--workers", "2", "--envs-per-worker",
                 "3", "--frames", "2000", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    finals = json.loads((run / "summary.json").read_text())["final_epsilons"]
    assert len(finals) == 2 and all(len(learner) == 3 for learner in finals)
    drawn = [e for learner in finals for e in learner]
    assert set(drawn) <= {0.1, 0.01, 0.5}
    line = next(x for x in result.stdout.splitlines() if x.startswith("final epsilon per environment"))
    assert "(6 in all)" in line
    for value in set(drawn):
        assert f"{value:g} x{drawn.count(value)}" in line
    # Each game in metrics.csv names its environment and that environment's final epsilon.
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and {int(r["env"]) for r in rows} <= {0, 1, 2}
    assert all(float(r["final_epsilon"]) == finals[int(r["worker"])][int(r["env"])] for r in rows)


def test_stop_at_return_ends_the_run_once_the_recent_mean_reaches_it(cli, tmp_path):
    # A random CartPole policy averages about 22, so a threshold of 15 over 5 episodes comes early.
    run = tmp_path / "run"
    result = cli("train", "--env", "CartPole-v1", "--workers", "2", "--frames", "5M",
                 "--stop-at-return", "15", "--stop-episodes", "5", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "return_reached"
    assert summary["frames"] < 5_000_000
    with open(run / "metrics.csv", newline="") as f:
        returns = [float(row["return"]) for row in csv.DictReader(f)]
    assert len(returns) >= 5
    assert any(sum(returns[i - 5 : i]) / 5 >= 15 for i in range(5, len(returns) + 1))

    # Resumed, the run counts a fresh window of episodes instead of stopping at once.
    again = cli("train", "--run-dir", str(run), "--resume")
    assert again.returncode == 0, again.stderr
    resumed = json.loads((run / "summary.json").read_text())
    assert resumed["status"] == "return_reached"
    assert resumed["episodes"] >= summary["episodes"] + 5 and resumed["frames"] > summary["frames"]


@pytest.mark.parametrize(
    "env, flags, policy",
    [
        ("Pendulum-v1", [], "gaussian mean"),
        ("Pendulum-v1", ["--log-std-init", "-0.5"], "gaussian mean"),
        ("Pendulum-v1", ["--preset", "mujoco-a3c", "--workers", "2"], "gaussian mean"),  # the paper's Gaussian
        ("CartPole-v1", ["--net", "lstm"], "sampled"),
        ("InvertedPendulum-v5", ["--net", "lstm"], "gaussian mean"),
    ],
)
def test_continuous_and_lstm_runs_train_resume_and_evaluate_from_the_cli(cli, tmp_path, env, flags, policy):
    run = tmp_path / "run"
    first = cli("train", "--env", env, "--workers", "2", "--frames", "1500", "--run-dir", str(run), *flags)
    assert first.returncode == 0, first.stderr
    again = cli("train", "--run-dir", str(run), "--resume", "--frames", "3000")
    assert again.returncode == 0, again.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["frames"] >= 3000
    saved = json.loads((run / "config.json").read_text())
    assert saved["net"]["core"] == ("lstm" if "lstm" in flags else "ff")

    result = json.loads(cli("evaluate", str(run), "--episodes", "2", "--json").stdout)
    assert result["policy"] == policy and len(result["returns"]) == 2
    if policy == "gaussian mean":
        assert "Gaussian policy's mean" in cli("evaluate", str(run), "--episodes", "1").stdout


@pytest.mark.parametrize("env", ["HalfCheetah-v5", "Hopper-v5"])
def test_mujoco_locomotion_tasks_train_from_the_cli(cli, tmp_path, env):
    run = tmp_path / "run"
    result = cli("train", "--algo", "a3c", "--env", env, "--workers", "2", "--frames", "3000",
                 "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["episodes"] >= 1
    saved = json.loads((run / "config.json").read_text())
    assert saved["algo"]["entropy_beta"] == 0.0 and saved["optim"]["lr"] == 3.5e-4
    assert saved["net"]["policy_std"] == "log-std" and saved["net"]["reward_norm"] is True
    assert saved["net"]["log_std_init"] == -1.0 and saved["algo"]["t_max"] == 20


def test_an_atari_run_saved_before_the_vector_env_existed_keeps_the_pipeline(cli, tmp_path):
    """Such a run stepped Gymnasium's pipeline; the vector environment became the default later."""
    run = tmp_path / "old"
    result = cli("train", "--env", "ALE/Pong-v5", "--workers", "1", "--envs-per-worker", "1", "--frames", "400",
                 "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    saved = json.loads((run / "config.json").read_text())
    assert saved["env"]["vector_env"] is True  # today's default
    del saved["env"]["vector_env"]
    (run / "config.json").write_text(json.dumps(saved))
    again = cli("train", "--config", str(run / "config.json"), "--print-config")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["env"]["vector_env"] is False


def test_a_run_saved_before_the_continuous_defaults_existed_reads_back_as_it_trained(cli, tmp_path):
    """A config.json written before --activation, --policy-std and --reward-norm existed (issue 18)
    holds none of them: that run had a ReLU MLP and the paper's Gaussian, not today's defaults."""
    run = tmp_path / "old"
    result = cli("train", "--env", "Pendulum-v1", "--preset", "mujoco-a3c", "--workers", "1", "--frames", "400",
                 "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    saved = json.loads((run / "config.json").read_text())
    for name in ("activation", "policy_std", "reward_norm"):
        del saved["net"][name]
    (run / "config.json").write_text(json.dumps(saved))
    evaluated = cli("evaluate", str(run), "--episodes", "1", "--json")
    assert evaluated.returncode == 0, evaluated.stderr  # the checkpoint fits the network it describes
    again = cli("train", "--config", str(run / "config.json"), "--print-config")
    assert again.returncode == 0, again.stderr
    net = json.loads(again.stdout)["net"]
    assert (net["activation"], net["policy_std"], net["reward_norm"]) == ("relu", "softplus", False)
    resumed = cli("train", "--run-dir", str(run), "--resume", "--frames", "800")
    assert resumed.returncode == 0, resumed.stderr
