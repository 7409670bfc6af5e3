"""Training survives faults on the local backend, and loses at most one checkpoint interval.

Each test drives the CLI in a subprocess, injects one fault (a killed learner, an exception or a
NaN inside the environment, a killed trainer, a damaged checkpoint) and checks what the issue
promises; every process a test starts is gone when it ends.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import assert_one_line_error, communicate_within, long_training

TESTS = Path(__file__).parent


def _start(run_dir, *args, fault: str | None = None, marker: Path | None = None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "ASYNCRL_TEST_RUN": str(run_dir)}  # inherited by every process of the run: see _leftovers
    if fault:
        env.update(ASYNCRL_FAULT=fault, ASYNCRL_FAULT_MARKER=str(marker))
    cmd = [sys.executable, "-m", "asyncrl", "train", "--workers", "2", "--run-dir", str(run_dir), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _finish(proc, timeout=240):
    return communicate_within(proc, timeout)


def _train_with_fault(tmp_path, fault: str, frames: str):
    """Train FaultyCartPole-v0 with ``fault``; returns (run dir, exit code, stderr, whether it fired)."""
    run, marker = tmp_path / "run", tmp_path / "fired"
    proc = _start(run, "--env", "faulty_env:FaultyCartPole-v0", "--frames", frames, fault=fault, marker=marker)
    _, err = _finish(proc)
    return run, proc, err, marker.exists()


def _learners(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "spawn_main"], capture_output=True, text=True,
                         check=False).stdout
    return [int(p) for p in out.split()]


def _alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    return alive


def _wait_gone(pids, timeout=15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _alive(pids)


def _leftovers(run_dir, timeout=15.0) -> list[int]:
    """Processes of a run still alive after ``timeout``: any process that inherited its tag."""
    tag = f"ASYNCRL_TEST_RUN={run_dir}".encode()

    def tagged() -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    if tag in (entry / "environ").read_bytes().split(b"\0"):
                        pids.append(int(entry.name))
                except OSError:  # gone meanwhile, or not ours to read
                    pass
        return pids

    deadline = time.monotonic() + timeout
    while (pids := tagged()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pids


def _summary(run_dir) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def _all_finite(state_dict) -> bool:
    return all(torch.isfinite(t).all() for t in state_dict.values() if t.is_floating_point())


@pytest.mark.timeout(300)
def test_a_killed_learner_is_restarted_and_the_run_honours_its_budget(tmp_path):
    run = tmp_path / "run"
    proc = _start(run, "--env", "CartPole-v1", "--frames", "60k")
    try:
        deadline = time.monotonic() + 60
        while len(_learners(proc.pid)) < 2 or not (run / "metrics.csv").exists():
            assert time.monotonic() < deadline and proc.poll() is None, "training did not get going"
            time.sleep(0.2)
        victim = _learners(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
    except BaseException:
        proc.kill()
        raise
    _, err = _finish(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "learner" in err and "killed by SIGKILL" in err and "restarted" in err
    assert "Traceback" not in err
    summary = _summary(run)
    assert summary["status"] == "completed" and summary["frames"] >= 60_000
    assert summary["learner_restarts"] >= 1 and "killed by SIGKILL" in summary["learner_restart_causes"][0]
    assert "killed by SIGKILL" in (run / "events.log").read_text()
    assert not _wait_gone([victim]) and not _leftovers(run)


@pytest.mark.timeout(300)
def test_an_exception_in_the_environment_restarts_its_learner_with_a_fresh_one(tmp_path):
    run, proc, err, fired = _train_with_fault(tmp_path, "raise_once", "30k")
    assert proc.returncode == 0, err[-2000:]
    assert fired, "the fault was never injected"
    summary = _summary(run)
    assert summary["status"] == "completed" and summary["frames"] >= 30_000
    assert summary["learner_restarts"] == 1
    assert "RuntimeError: injected fault in the environment" in summary["learner_restart_causes"][0]


@pytest.mark.timeout(300)
def test_learners_that_keep_dying_stop_the_run_with_a_final_checkpoint_and_one_clear_line(tmp_path):
    run, proc, err, _ = _train_with_fault(tmp_path, "raise_always", "5M")
    assert proc.returncode == 1
    lines = [line for line in err.splitlines() if line.startswith("asyncrl train: error:")]
    assert len(lines) == 1 and "more than 5 learner restarts within a minute" in lines[0], err[-2000:]
    assert "injected fault" in lines[0] and "Traceback" not in err
    summary = _summary(run)
    assert summary["status"] == "failed" and summary["learner_restarts"] == 5
    assert torch.load(run / "checkpoint.pt", weights_only=True)["frames"] == summary["frames"]
    assert not _leftovers(run)


@pytest.mark.timeout(300)
def test_a_nonfinite_update_is_skipped_and_never_reaches_the_shared_parameters(tmp_path):
    run, proc, err, fired = _train_with_fault(tmp_path, "nan_once", "20k")
    assert proc.returncode == 0, err[-2000:]
    assert fired, "the NaN was never injected"
    summary = _summary(run)
    assert summary["nonfinite_updates_skipped"] >= 1
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert _all_finite(state["model"]) and all(torch.isfinite(g).all() for g in state["optimizer"]["square_avg"])


@pytest.mark.timeout(300)
def test_after_sigkill_of_the_trainer_resume_continues_frames_and_parameters_from_the_checkpoint(cli, tmp_path):
    run = tmp_path / "run"
    with long_training(run, extra=("--checkpoint-interval", "1")) as proc:
        deadline = time.monotonic() + 60
        while not (run / "checkpoint.prev.pt").exists():  # at least two checkpoints written
            assert time.monotonic() < deadline and proc.poll() is None, "no checkpoint was written"
            time.sleep(0.2)
        learners = _learners(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not _wait_gone(learners), "learners outlived their trainer"
    saved = torch.load(run / "checkpoint.pt", weights_only=True)
    assert not (run / "summary.json").exists()

    # Resume for one more segment per learner: the parameters must be the checkpoint's, barely moved.
    # The learning rate anneals to 0 at the budget, so these last updates barely move anything.
    result = cli("train", "--run-dir", str(run), "--resume", "--frames", str(saved["frames"] + 1),
                 "--checkpoint-interval", "300")
    assert result.returncode == 0, result.stderr
    summary = _summary(run)
    assert saved["frames"] < summary["frames"] <= saved["frames"] + 2 * 5 + 1
    resumed = torch.load(run / "checkpoint.pt", weights_only=True)
    fresh = torch.load(run / "checkpoint.prev.pt", weights_only=True)  # the saved one, kept as previous
    assert fresh["frames"] == saved["frames"]
    for name, before in saved["model"].items():
        if before.is_floating_point():
            assert torch.allclose(resumed["model"][name], before, atol=1e-4), name


@pytest.mark.timeout(300)
def test_a_damaged_checkpoint_falls_back_to_the_previous_one_with_a_warning(cli, tmp_path):
    run = tmp_path / "run"
    first = cli("train", "--env", "CartPole-v1", "--workers", "2", "--frames", "4000", "--run-dir", str(run))
    assert first.returncode == 0, first.stderr
    second = cli("train", "--run-dir", str(run), "--resume", "--frames", "8000")
    assert second.returncode == 0, second.stderr
    previous_frames = torch.load(run / "checkpoint.prev.pt", weights_only=True)["frames"]
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[: len(data) // 2])  # a write cut short

    third = cli("train", "--run-dir", str(run), "--resume", "--frames", "12000")
    assert third.returncode == 0, third.stderr
    assert "checkpoint.pt is unreadable" in third.stderr and "previous" in third.stderr
    # It went on from the previous checkpoint, and the damaged file has been replaced by a good one.
    assert _summary(run)["frames"] >= 12_000
    assert previous_frames >= 4_000
    assert torch.load(run / "checkpoint.pt", weights_only=True)["frames"] == _summary(run)["frames"]


@pytest.mark.timeout(120)
def test_a_second_ctrl_c_stops_at_once_and_leaves_no_process_behind(tmp_path):
    # Slow steps make the clean stop after the first Ctrl-C last seconds (each learner finishes its
    # segment), so the second one arrives while it is under way.
    run = tmp_path / "run"
    proc = _start(run, "--env", "faulty_env:FaultyCartPole-v0", "--frames", "5M", fault="slow",
                  marker=tmp_path / "unused")
    try:
        deadline = time.monotonic() + 60
        while len(_learners(proc.pid)) < 2 or not (run / "metrics.csv").exists():
            assert time.monotonic() < deadline and proc.poll() is None, "training did not get going"
            time.sleep(0.2)
        time.sleep(3)  # both learners are now in their slow steps
        learners = _learners(proc.pid)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None, "the clean stop was not slow enough to test a second Ctrl-C"
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        proc.wait(timeout=30)
        assert time.monotonic() - started < 3
    finally:
        proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert not _wait_gone(learners, timeout=5) and not _leftovers(run), "learners outlived the trainer"


@pytest.mark.parametrize(
    "damage, fragments",
    [
        ("other_tool", ["config.json that asyncrl did not write"]),
        ("checkpoint_format", ["format", "this asyncrl", "reads format"]),
        ("no_config", ["not an asyncrl run directory"]),
    ],
)
def test_resuming_what_asyncrl_cannot_use_is_one_clear_line(cli, tmp_path, damage, fragments):
    run = tmp_path / "run"
    first = cli("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "500", "--run-dir", str(run))
    assert first.returncode == 0, first.stderr
    if damage == "other_tool":
        config = json.loads((run / "config.json").read_text())
        (run / "config.json").write_text(json.dumps({**config, "tool": "another-tool"}))
    elif damage == "checkpoint_format":
        for name in ("checkpoint.pt", "checkpoint.prev.pt"):
            if (run / name).exists():
                state = torch.load(run / name, weights_only=True)
                torch.save({**state, "format": 99, "version": "9.0"}, run / name)
    else:
        (run / "config.json").unlink()
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert_one_line_error(cli("train", "--run-dir", str(run), "--resume", "--frames", "1000"), *fragments)
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before, "the run was changed"
