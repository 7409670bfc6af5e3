"""What `asyncrl plot` and `asyncrl play` do with damaged inputs and outputs that cannot be written:
a metrics.csv cut short by a crash or not text at all, a video onto a file system that refuses it or
fills up on the way, a MuJoCo rendering backend that does not exist. One line on stderr, never a
traceback, and nothing half-written left behind."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Result, assert_one_line_error


def _train(root: Path, name: str, env_id: str, frames: str) -> Path:
    result = subprocess.run([sys.executable, "-m", "asyncrl", "train", "--env", env_id, "--workers", "1",
                             "--frames", frames, "--run-dir", name, "--quiet"], cwd=root, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return root / name


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory) -> Path:
    """A few seconds of CartPole A3C, trained once; tests change copies of it."""
    return _train(tmp_path_factory.mktemp("runs"), "cartpole", "CartPole-v1", "3000")


@pytest.fixture(scope="module")
def pendulum(tmp_path_factory) -> Path:
    """A few seconds of InvertedPendulum (MuJoCo) A3C, trained once."""
    return _train(tmp_path_factory.mktemp("runs"), "pendulum", "InvertedPendulum-v5", "2000")


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / run_dir.name))


def assert_one_line_failure(result: Result, *fragments: str) -> None:
    """Exit code 1 (the machine or the environment, not the input) and one line on stderr."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- plot: metrics.csv damaged --------------------------------------------------------------------

def _whole_last_row(metrics: Path) -> tuple[str, str]:
    text = metrics.read_text()
    head, last = text.rstrip("\r\n").rsplit("\n", 1)
    return head + "\n", last


@pytest.mark.parametrize("damage", [
    "cut inside a field",     # 12345,3.2 with no newline: the crash came mid-row
    "cut after a field",      # the return and what follows never reached the disk
    "garbage values",         # the right number of fields, none of them numbers
    "not finite",
    "joined to the next row",  # a run resumed after the crash appends its first row to the stub
])
def test_plot_skips_a_row_a_crash_cut_short_and_draws_the_rest(cartpole, tmp_path, cli, damage):
    from asyncrl.plot import load_curve

    run = _copy(cartpole, tmp_path)
    metrics = run / "metrics.csv"
    head, last = _whole_last_row(metrics)
    fields = last.split(",")
    bad = {
        "cut inside a field": f"{fields[0]},{fields[1][:-1]}",
        "cut after a field": ",".join(fields[:3]),
        "garbage values": ",".join(["x\x00y"] * len(fields)),
        "not finite": ",".join([fields[0], fields[1], fields[2], "nan", *fields[4:]]),
        "joined to the next row": f"{fields[0]},{fields[1][:-1]}{last}\n",
    }[damage]
    metrics.write_text(head + bad)

    result = cli("plot", str(run), "-o", "curves.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "curves.png").stat().st_size > 0 and result.stderr == ""
    # Every whole row is drawn, and only those.
    assert len(load_curve(run).returns) == len(load_curve(cartpole).returns) - 1


def test_plot_refuses_a_metrics_file_that_is_not_text(cartpole, tmp_path, cli):
    run = _copy(cartpole, tmp_path)
    (run / "metrics.csv").write_bytes(bytes(range(0x80, 0x100)) * 64)
    assert_one_line_error(cli("plot", str(run)), f"{run / 'metrics.csv'} is not a CSV file asyncrl wrote",
                          "not UTF-8 text")
    assert not (tmp_path / "curves.png").exists()


def test_plot_refuses_a_csv_file_another_tool_wrote(cartpole, tmp_path, cli):
    run = _copy(cartpole, tmp_path)
    (run / "metrics.csv").write_text("step,reward\n1,2.0\n")
    assert_one_line_error(cli("plot", str(run)), "not a CSV file asyncrl wrote", "no frames, wall_seconds, return")


def test_plot_refuses_a_config_that_is_not_text(cartpole, tmp_path, cli):
    run = _copy(cartpole, tmp_path)
    (run / "config.json").write_bytes(b"\x80\x81\xfe\xff" * 16)
    assert_one_line_error(cli("plot", str(run)), f"{run / 'config.json'} cannot be read")


# -- play: a video that cannot be written ---------------------------------------------------------

def _unwritable_video() -> Path:
    """A video path that cannot be created even by root: sysfs takes no new files."""
    target = Path("/sys/asyncrl-test-video.mp4")
    try:
        with open(target, "wb"):
            pass
    except OSError:
        return target
    target.unlink()
    pytest.skip("/sys accepts new files here: nothing to refuse")


def test_play_refuses_an_unwritable_video_before_playing(cartpole, cli):
    target = _unwritable_video()
    result = cli("play", str(cartpole), "--video", str(target))
    assert_one_line_failure(result, f"cannot write {target}:")
    assert "episode 1" not in result.stdout  # refused up front, not after playing
    assert not target.exists()


def _play_with_file_size_limit(run_dir: Path, cwd: Path, limit: int, *args: str) -> Result:
    """``asyncrl play`` with ``ulimit -f`` set, in the child itself (no preexec_fn in a threaded parent)."""
    code = (f"import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
            "sys.argv[0] = 'asyncrl'; runpy.run_module('asyncrl', run_name='__main__', alter_sys=True)")
    proc = subprocess.run([sys.executable, "-c", code, "play", str(run_dir), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_play_removes_a_video_whose_writing_fails_on_the_way_and_says_why(cartpole, tmp_path):
    # The first frames go through; the file size limit stops ffmpeg (SIGXFSZ) as the video grows.
    result = _play_with_file_size_limit(cartpole, tmp_path, 4096, "--episodes", "5", "--video", "agent.mp4")
    assert_one_line_failure(result, "cannot write agent.mp4", "SIGXFSZ", "the partial video was removed")
    assert not (tmp_path / "agent.mp4").exists()


def test_play_onto_a_full_device_names_ffmpegs_cause_and_removes_the_video(cartpole, tmp_path, cli):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    video = tmp_path / "full.mp4"
    video.symlink_to("/dev/full")  # opens fine; every write fails with ENOSPC
    result = cli("play", str(cartpole), "--video", video.name)
    assert_one_line_failure(result, "cannot write full.mp4", "No space left on device")
    assert not video.is_symlink() and os.path.exists("/dev/full")


# -- play: MuJoCo's rendering backend -------------------------------------------------------------

def test_play_names_the_mujoco_backends_that_work_when_mujoco_gl_names_none(pendulum, tmp_path, cli, monkeypatch):
    video = tmp_path / "agent.mp4"
    video.write_bytes(b"an older video")
    monkeypatch.setenv("MUJOCO_GL", "bogus")
    result = cli("play", str(pendulum), "--video", video.name)
    assert_one_line_error(result, "MUJOCO_GL=bogus", "egl", "osmesa", "glfw")  # bad input: exit 2
    assert "episode 1" not in result.stdout
    assert video.read_bytes() == b"an older video"  # checked for writing, and left as it was


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_an_unknown_mujoco_gl_is_one_line_even_where_nothing_renders(pendulum, tmp_path, cli, monkeypatch, command):
    # mujoco refuses to be imported at all with it, so evaluating or training cannot work either.
    monkeypatch.setenv("MUJOCO_GL", "bogus")
    args = ([str(pendulum), "--episodes", "1"] if command == "evaluate"
            else ["--env", "InvertedPendulum-v5", "--run-dir", str(tmp_path / "new")])
    assert_one_line_error(cli(command, *args), "MUJOCO_GL=bogus", "egl")
    assert not (tmp_path / "new").exists()


def test_mujoco_gl_does_not_matter_to_a_run_without_mujoco(cartpole, tmp_path, cli, monkeypatch):
    video = tmp_path / "agent.mp4"
    video.write_bytes(b"an older video")
    monkeypatch.setenv("MUJOCO_GL", "bogus")
    result = cli("play", str(cartpole), "--video", video.name)
    assert result.returncode == 0, result.stderr
    assert video.read_bytes()[4:8] == b"ftyp"  # replaced by an MP4
