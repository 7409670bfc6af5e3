"""A run directory survives whatever the user's shell does to it (issue 51).

Each test drives the CLI in a subprocess as a shell would: a pipe that is closed, a full device,
two trainers on one directory, Ctrl-C to the whole process group at different moments, a file a
crash cut short, a full disk, a learner that hangs. What every test checks in the end: no
traceback, one line for what went wrong, and nothing trained lost.
"""

import csv
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import assert_one_line_error, communicate_within, long_training

TESTS = Path(__file__).parent


def _asyncrl(*args) -> list[str]:
    return [sys.executable, "-m", "asyncrl", *map(str, args)]


def _env(**extra) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
            **extra}


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def _checkpoint_frames(run: Path) -> int:
    return torch.load(run / "checkpoint.pt", weights_only=True)["frames"]


def _no_temporary_files(run: Path) -> None:
    assert not list(run.rglob("*.tmp")), list(run.rglob("*.tmp"))


def _assert_whole_run(run: Path, status: str) -> dict:
    """The run ended as ``status`` with its final checkpoint: what the summary counts is what was saved."""
    summary = _summary(run)
    assert summary["status"] == status, summary
    assert _checkpoint_frames(run) == summary["frames"]
    _no_temporary_files(run)
    return summary


def _one_line(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- 1. output never stops training -------------------------------------------------------------

@pytest.mark.timeout(300)
def test_a_pipe_closed_after_the_first_line_turns_progress_off_and_the_run_trains_its_budget(tmp_path):
    # `asyncrl train ... | head -n 1`: head reads a line and goes; the trainer's next line hits a closed pipe.
    run = tmp_path / "run"
    proc = subprocess.Popen(_asyncrl("train", "--env", "CartPole-v1", "--workers", "2", "--frames", "30000",
                                     "--log-interval", "0.1", "--run-dir", run),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "frames" in proc.stdout.readline()
    proc.stdout.close()
    err = communicate_within(proc, 240)[1]
    assert proc.returncode == 0, err
    assert "Traceback" not in err and err.strip() == "", err  # a closed pipe is the reader's choice: no note
    assert _assert_whole_run(run, "completed")["frames"] >= 30_000


@pytest.mark.timeout(300)
def test_stdout_and_stderr_closed_from_the_start_lose_nothing_but_the_output(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(_asyncrl("train", "--env", "CartPole-v1", "--workers", "2", "--frames", "20000",
                                     "--log-interval", "0.1", "--run-dir", run),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.wait(timeout=240) == 0
    _assert_whole_run(run, "completed")


@pytest.mark.timeout(300)
def test_stdout_on_a_full_device_is_one_note_and_the_run_completes(tmp_path):
    run = tmp_path / "run"
    with open("/dev/full", "w") as full:
        result = subprocess.run(_asyncrl("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "5000",
                                         "--run-dir", run), stdout=full, stderr=subprocess.PIPE, text=True,
                                timeout=240, check=False)
    assert result.returncode == 0, result.stderr
    _one_line(result.stderr, "stdout could not be written", "No space left on device")
    _assert_whole_run(run, "completed")
    with open("/dev/full", "w") as full:
        evaluated = subprocess.run(_asyncrl("evaluate", run, "--episodes", "1"), stdout=full,
                                   stderr=subprocess.PIPE, text=True, timeout=240, check=False)
    assert evaluated.returncode == 0
    _one_line(evaluated.stderr, "stdout could not be written")


@pytest.mark.timeout(300)
def test_evaluate_json_into_a_closed_pipe_ends_quietly(tmp_path, cli):
    run = tmp_path / "run"
    assert cli("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "2000", "--run-dir",
               str(run)).returncode == 0
    # `asyncrl evaluate --json | head -c 5`, with the reader gone before the JSON is written
    proc = subprocess.Popen(_asyncrl("evaluate", run, "--episodes", "1", "--json"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = communicate_within(proc, 120)[1]
    assert proc.returncode == 0 and "Traceback" not in err and "Exception ignored" not in err, err


# -- 2. one trainer per run directory -----------------------------------------------------------

@pytest.mark.timeout(300)
def test_a_second_trainer_is_refused_naming_the_first_and_a_killed_one_never_blocks_resume(cli, tmp_path):
    run = tmp_path / "run"
    with long_training(run, extra=("--checkpoint-interval", "1")) as first:
        deadline = time.monotonic() + 60
        while not (run / "checkpoint.pt").exists():
            assert time.monotonic() < deadline and first.poll() is None, "no checkpoint was written"
            time.sleep(0.2)
        before = (run / "metrics.csv").stat().st_size
        for second in (cli("train", "--run-dir", str(run), "--resume", "--frames", "60M"),
                       cli("train", "--env", "CartPole-v1", "--run-dir", str(run))):
            assert_one_line_error(second, "in use", f"PID {first.pid}")
        # Reading a run in training is fine.
        evaluated = cli("evaluate", str(run), "--episodes", "1", "--json")
        assert evaluated.returncode == 0, evaluated.stderr
        assert json.loads(evaluated.stdout)["checkpoint"] == "checkpoint.pt"
        assert cli("plot", str(run), "-o", str(tmp_path / "c.png")).returncode == 0
        first.kill()  # SIGKILL: the operating system releases the lock
        first.wait()
        assert (run / "metrics.csv").stat().st_size >= before
    frames = _checkpoint_frames(run)
    resumed = cli("train", "--run-dir", str(run), "--resume", "--frames", str(frames + 2000))
    assert resumed.returncode == 0, resumed.stderr
    assert _assert_whole_run(run, "completed")["frames"] >= frames + 2000


# -- 3. Ctrl-C at any moment, to the whole process group ----------------------------------------

def _learner_pids(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "spawn_main"], capture_output=True, text=True,
                         check=False).stdout
    return [int(p) for p in out.split()]


def _handles_sighup(pid: int) -> bool:
    """Whether the process catches SIGHUP: the CLI's stop handlers are installed (Python's own are not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt")), 16)
    return bool(caught & (1 << (signal.SIGHUP - 1)))


def _wait_for(condition, proc, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline and proc.poll() is None, f"never saw: {what}"
        time.sleep(0.02)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig, moment", [
    (signal.SIGINT, "before the run directory"),
    (signal.SIGINT, "while the learners start"),
    (signal.SIGINT, "while training"),
    (signal.SIGINT, "while checkpointing"),
    (signal.SIGTERM, "while training"),
    (signal.SIGHUP, "while training"),  # a closed terminal
])
def test_a_signal_to_the_process_group_ends_the_run_cleanly_at_any_moment(tmp_path, sig, moment):
    run = tmp_path / "run"
    interval = "0.05" if moment == "while checkpointing" else "300"  # a checkpoint at every look
    # SIGHUP as a terminal leaves it even when the suite runs under nohup, whose ignored SIGHUP the
    # CLI keeps (as nohup intends); the exec keeps the pid.
    hup_default = [sys.executable, "-c", ("import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
                   "os.execv(sys.argv[1], sys.argv[1:])")]
    proc = subprocess.Popen(hup_default + _asyncrl("train", "--env", "CartPole-v1", "--workers", "2", "--frames",
                                                   "50M", "--checkpoint-interval", interval, "--run-dir", run),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's job
    try:
        if moment == "before the run directory":
            _wait_for(lambda: _handles_sighup(proc.pid), proc, "the CLI's handlers")
        elif moment == "while the learners start":
            _wait_for(lambda: len(_learner_pids(proc.pid)) == 2, proc, "two learner processes")
        elif moment == "while checkpointing":
            _wait_for(lambda: (run / "checkpoint.pt").exists(), proc, "a checkpoint")
        else:
            _wait_for(lambda: (run / "metrics.csv").exists() and
                      len((run / "metrics.csv").read_text().splitlines()) > 5, proc, "episodes")
        learners = _learner_pids(proc.pid)
        os.killpg(proc.pid, sig)
        _out, err = communicate_within(proc, 120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "restarted" not in err, err  # the signal reached the learners too: they are not replaced
    if not run.exists():  # it came before anything was made
        assert moment == "before the run directory"
        _one_line(err, "before the run started", "nothing was written")
    else:
        summary = _assert_whole_run(run, "interrupted")
        assert summary["stopped_by"] == sig.name and summary["learner_restarts"] == 0
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in learners) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid in learners), "learners outlived the trainer"


@pytest.mark.timeout(180)
def test_a_signal_while_the_run_is_stopping_does_not_disturb_the_stop(tmp_path):
    # Slow steps make the clean stop last seconds; a SIGTERM to the group lands in the middle of it.
    run = tmp_path / "run"
    proc = subprocess.Popen(_asyncrl("train", "--env", "faulty_env:FaultyCartPole-v0", "--workers", "2",
                                     "--frames", "5M", "--run-dir", run),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=_env(ASYNCRL_FAULT="slow", ASYNCRL_FAULT_MARKER=str(tmp_path / "unused")))
    try:
        _wait_for(lambda: len(_learner_pids(proc.pid)) == 2 and (run / "metrics.csv").exists(), proc, "training")
        time.sleep(3)  # both learners are in their slow steps
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None, "the stop was not slow enough to test"
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = communicate_within(proc, 120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert _assert_whole_run(run, "interrupted")["stopped_by"] == "SIGINT"


# -- 4. files a crash cut short -----------------------------------------------------------------

@pytest.mark.timeout(300)
def test_resume_repairs_a_row_cut_short_and_removes_what_a_killed_trainer_left(cli, tmp_path):
    run = tmp_path / "run"
    assert cli("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "3000", "--run-dir",
               str(run)).returncode == 0
    with open(run / "metrics.csv", "a") as f:
        f.write("3104,1.52,0,1")  # the trainer died while writing a row
    (run / "checkpoint.pt.tmp").write_bytes(b"half a checkpoint")  # ... or while writing a checkpoint
    resumed = cli("train", "--run-dir", str(run), "--resume", "--frames", "6000")
    assert resumed.returncode == 0, resumed.stderr
    assert "removed its last row, cut short by a crash" in resumed.stderr and "Traceback" not in resumed.stderr
    assert "removed its last row" in (run / "events.log").read_text()
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert all(len(row) == len(rows[0]) for row in rows), [r for r in rows if len(r) != len(rows[0])]
    assert "3104" not in {row[0] for row in rows}
    _assert_whole_run(run, "completed")


# -- 5. a full disk -----------------------------------------------------------------------------

def _mount_tiny_disk(where: Path, size: str) -> bool:
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, check=False).returncode == 0


@pytest.mark.timeout(300)
def test_a_full_disk_is_one_line_exit_1_and_keeps_the_previous_checkpoint(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tiny_disk(disk, "4m"):
        pytest.skip("cannot mount a tmpfs here (not root); the file-size-limit test covers the same path")
    try:
        run = disk / "run"
        proc = subprocess.Popen(_asyncrl("train", "--env", "CartPole-v1", "--workers", "2", "--frames", "50M",
                                         "--checkpoint-interval", "1", "--quiet", "--run-dir", run),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(lambda: _trained_checkpoint(run), proc, "a checkpoint of some training")
            _fill(disk / "filler")  # the disk fills up while the run goes on
            err = communicate_within(proc, 240)[1]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 1, err
        _one_line(err, "asyncrl train: error: cannot write", str(run), "No space left on device")
        assert _checkpoint_frames(run) > 0  # the last one written is whole
        _no_temporary_files(run)
        if (run / "summary.json").exists():
            assert _summary(run)["status"] == "failed"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _trained_checkpoint(run: Path) -> bool:
    try:
        return _checkpoint_frames(run) > 0
    except (OSError, RuntimeError, EOFError):  # not there yet, or being replaced
        return False


def _fill(path: Path) -> None:
    """Write zeros to ``path`` until its file system is full."""
    with open(path, "wb", buffering=0) as f:  # unbuffered: nothing is left to fail at close
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


@pytest.mark.timeout(300)
def test_a_file_size_limit_is_one_line_exit_1_and_leaves_no_temporary_file(tmp_path):
    # `ulimit -f`: writes past the limit fail with EFBIG (Python ignores SIGXFSZ), as on a full disk.
    run = tmp_path / "run"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    result = subprocess.run(_asyncrl("train", "--env", "CartPole-v1", "--workers", "2", "--frames", "50M",
                                     "--checkpoint-interval", "1", "--quiet", "--run-dir", run),
                            capture_output=True, text=True, timeout=240, check=False, preexec_fn=limit)
    assert result.returncode == 1, result.stderr
    _one_line(result.stderr, "asyncrl train: error: cannot write", "File too large")
    _no_temporary_files(run)
    assert _summary(run)["status"] == "failed" and "File too large" in _summary(run)["error"]


# -- 6. bad input: one line, exit 2, nothing made ------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    result = subprocess.run(_asyncrl("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "3000",
                                     "--quiet", "--run-dir", run), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return run


def _copy_of(run: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    return copy


@pytest.mark.parametrize("args, fragments", [
    (["train", "--env", "CartPole-v1", "--seed=-1", "--run-dir", "new"], ["--seed", "got -1"]),
    (["train", "--env", "CartPole-v1", "--seed=-1", "--print-config"], ["--seed", "got -1"]),
    (["sweep", "--env", "CartPole-v1", "--seed=-1", "--runs", "2", "--sweep-dir", "new"], ["--seed", "got -1"]),
    (["sweep", "--env", "CartPole-v1", "--seed", "4294967295", "--runs", "2", "--sweep-dir", "new"],
     ["no room for 2 runs"]),
    (["train", "--env", "CartPole-v1", "--run-dir", "n" * 300], ["--run-dir", "300 bytes"]),
    (["train", "--env", "CartPole-v1", "--run-dir", "new/" + "n" * 256 + "/x"], ["--run-dir", "256 bytes"]),
])
def test_bad_input_is_one_line_before_anything_is_made(cli, tmp_path, args, fragments):
    assert_one_line_error(cli(*args), *fragments)
    assert not any(p.name.startswith(("new", "nnn")) for p in tmp_path.iterdir())


def test_a_run_directory_name_that_is_not_utf8_is_one_line_and_nothing_is_made(tmp_path):
    name = os.fsdecode(b"run-\xff\xfe")
    result = subprocess.run([sys.executable, "-m", "asyncrl", "train", "--env", "CartPole-v1", "--run-dir", name],
                            cwd=tmp_path, capture_output=True, timeout=120, check=False)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 2 and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert "UTF-8" in stderr and not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["evaluate", "play"])
def test_a_negative_seed_for_playing_is_one_line(cli, trained, command):
    assert_one_line_error(cli(command, str(trained), "--seed=-1"), "--seed", "got -1")


def test_a_config_file_value_out_of_range_names_the_file_and_the_setting(cli, tmp_path):
    (tmp_path / "c.toml").write_text('[env]\nenv_id = "CartPole-v1"\n\n[run]\nseed = -1\n')
    assert_one_line_error(cli("train", "--config", "c.toml", "--run-dir", "new"), "c.toml: [run] seed must be",
                          "got -1")
    (tmp_path / "c.toml").write_bytes(b"\x80\xff[run]\x00")
    assert_one_line_error(cli("train", "--config", "c.toml", "--env", "CartPole-v1"), "c.toml", "not UTF-8")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("edit, fragments", [
    (lambda c: c["net"].update(hidden=[64]), ["does not match checkpoint.pt", "the checkpoint has --hidden 200",
                                             "config.json says 64"]),
    (lambda c: c["optim"].update(lr="fast"), ["config.json: optim.lr must be a finite number", "'fast'"]),
    (lambda c: c["optim"].update(lr=-5), ["config.json: optim.lr must be a positive number, got -5"]),
    (lambda c: c["run"].update(seed=True), ["config.json: run.seed must be an integer"]),
    (lambda c: c.update(net=7), ["config.json: net must be a table of settings"]),
])
def test_an_edited_config_json_is_one_line_naming_what_differs(cli, trained, tmp_path, edit, fragments):
    run = _copy_of(trained, tmp_path)
    config = json.loads((run / "config.json").read_text())
    edit(config)
    (run / "config.json").write_text(json.dumps(config))
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert_one_line_error(cli("train", "--run-dir", str(run), "--resume", "--frames", "6000"), *fragments)
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert after == before, "the run was changed"
    if "lr" not in str(fragments):  # evaluation does not use the learning rate
        assert_one_line_error(cli("evaluate", str(run), "--episodes", "1"), *fragments)


def test_resuming_a_run_whose_metrics_are_not_text_is_one_line(cli, trained, tmp_path):
    run = _copy_of(trained, tmp_path)
    (run / "metrics.csv").write_bytes(bytes(range(128, 256)))
    assert_one_line_error(cli("train", "--run-dir", str(run), "--resume", "--frames", "6000"),
                          "metrics.csv is not a CSV file asyncrl wrote", "not UTF-8")


# -- 7. settings that cannot apply --------------------------------------------------------------

def test_settings_without_effect_are_one_warning_each_and_config_json_records_what_was_used(cli, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "--env", "CartPole-v1", "--workers", "1", "--frames", "2000", "--frameskip", "4",
                 "--no-vector-env", "--log-std-init", "-2", "--target-update", "5", "--lr-warmup-frames", "5000",
                 "--quiet", "--run-dir", str(run))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    warnings = result.stderr.strip().splitlines()
    assert all(line.startswith("asyncrl train: warning: ") for line in warnings), warnings
    for fragment in ("--frameskip 4 has no effect", "--vector-env False has no effect",
                     "--log-std-init -2.0 has no effect", "--target-update 5 has no effect",
                     "--lr-warmup-frames 5,000 is beyond --frames 2,000"):
        assert sum(fragment in line for line in warnings) == 1, (fragment, warnings)
    config = json.loads((run / "config.json").read_text())
    assert config["env"]["frameskip"] == 1 and config["env"]["vector_env"] is True
    assert config["net"]["log_std_init"] == -1.0 and config["algo"]["target_update"] == 2000
    assert config["optim"]["lr_warmup_frames"] == 5000  # it does act, if not as meant


@pytest.mark.parametrize("args, fragment", [
    (["--env", "ALE/Pong-v5", "--hidden", "64"], "--hidden 64 has no effect: Atari frames"),
    (["--env", "CartPole-v1", "--preset", "mujoco-a3c"], ("--preset mujoco-a3c is the paper's setting for "
                                                         "continuous actions; CartPole-v1 has discrete ones")),
    (["--env", "CartPole-v1", "--algo", "one-step-q", "--t-max", "20"], "--t-max 20 has no effect"),
    (["--env", "CartPole-v1", "--ray-shards", "4"], "--ray-shards 4 has no effect: it sets node groups'"),
    (["--env", "CartPole-v1", "--backend", "ray", "--ray-layout", "per-learner", "--exchange-dtype", "bf16"],
     "--exchange-dtype bf16 has no effect"),
])
def test_print_config_warns_of_settings_without_effect(cli, args, fragment):
    result = cli("train", *args, "--print-config")
    assert result.returncode == 0, result.stderr
    assert sum(fragment in line for line in result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


# -- 8. evaluate says which checkpoint it scored -------------------------------------------------

def test_evaluate_names_its_checkpoint_and_says_when_it_fell_back(cli, trained, tmp_path):
    run = _copy_of(trained, tmp_path)
    assert cli("train", "--run-dir", str(run), "--resume", "--frames", "6000", "--quiet").returncode == 0
    previous = torch.load(run / "checkpoint.prev.pt", weights_only=True)["frames"]
    (run / "checkpoint.pt").write_bytes(b"cut short")
    result = cli("evaluate", str(run), "--episodes", "1")
    assert result.returncode == 0, result.stderr
    assert f"checkpoint.prev.pt at {previous:,} frames" in result.stdout
    _one_line(result.stderr, "warning", "checkpoint.pt", "unreadable")
    report = json.loads(cli("evaluate", str(run), "--episodes", "1", "--json").stdout)
    assert report["checkpoint"] == "checkpoint.prev.pt" and report["checkpoint_frames"] == previous
    assert "used checkpoint.prev.pt instead" in report["checkpoint_note"]


# -- 9. a hung learner --------------------------------------------------------------------------

@pytest.mark.timeout(300)
def test_a_hung_learner_is_reported_and_restarted_like_a_dead_one(tmp_path):
    run = tmp_path / "run"
    result = subprocess.run(_asyncrl("train", "--env", "faulty_env:FaultyCartPole-v0", "--workers", "2",
                                     "--frames", "60000", "--hang-seconds", "3", "--quiet", "--run-dir", run),
                            capture_output=True, text=True, timeout=240, check=False,
                            env=_env(ASYNCRL_FAULT="hang_once", ASYNCRL_FAULT_MARKER=str(tmp_path / "fired")))
    assert (tmp_path / "fired").exists(), "the fault never fired"
    assert result.returncode == 0, result.stderr
    _one_line(result.stderr, "hung: no progress for", "restarted it")
    summary = _assert_whole_run(run, "completed")
    assert summary["learner_restarts"] == 1 and summary["learner_restart_causes"][0].startswith("hung")
    assert summary["frames"] >= 60_000
    assert "hung" in (run / "events.log").read_text()
