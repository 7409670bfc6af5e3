import contextlib
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def _sys_path_unchanged():
    """No test leaves sys.path changed: learners started later inherit it, and bench/ on it (whose
    mujoco.py shadows MuJoCo) broke every MuJoCo learner of the tests after it."""
    saved = list(sys.path)
    yield
    sys.path[:] = saved


# The files whose tests start Ray nodes. They find Ray's processes by name across the machine (to kill
# a learner, to see that none outlived a run), so no two of their tests may run at once.
RAY_FILES = {"test_ray", "test_bench_ps_load"}


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist's ``--dist loadgroup`` the Ray files' tests form one group, run in order on
    one worker. xdist hands out the group with the most tests first, so this group, the longest
    piece of work that cannot be split, does not come last. Every other test goes to whichever
    worker is free."""
    for item in items:
        if item.module.__name__ in RAY_FILES:
            item.add_marker(pytest.mark.xdist_group("ray"))


BENCH_DIR = Path(__file__).parent.parent / "bench"


@functools.cache
def bench_module(name: str):
    """bench/NAME.py imported as a module (bench/ is scripts, not a package), registered as bench_NAME
    (a dataclass looks its module up there). bench/ is on sys.path while it imports, as when the
    script runs, and off it after: its mujoco.py would shadow the MuJoCo package in later tests."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    path = list(sys.path)
    sys.path.insert(0, str(BENCH_DIR))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
    return module


@pytest.fixture
def own_tempdir(monkeypatch):
    """A fresh temp folder, the TMPDIR of every subprocess the test starts, to see what they leave there.
    Made by mkdtemp, not under tmp_path: a Unix socket's path (multiprocessing makes some there) has a
    length limit."""
    path = Path(tempfile.mkdtemp(prefix="asyncrl-"))  # before TMPDIR changes: this fixes pytest's own, cached
    monkeypatch.setenv("TMPDIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def cli(tmp_path):
    """Run ``asyncrl ...`` as a user would, in a subprocess, from a scratch working directory."""

    def run(*args: str, timeout: float = 300) -> Result:
        env = {**os.environ, "COLUMNS": "200"}
        proc = subprocess.run([sys.executable, "-m", "asyncrl", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def communicate_within(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """(stdout, stderr) of a process that must end within ``timeout``; killed and failed otherwise."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the process did not finish in {timeout}s:\n{out[-2000:]}\n{err[-2000:]}")


@contextlib.contextmanager
def long_training(run_dir, episodes: int = 5, timeout: float = 120, extra: tuple[str, ...] = ()):
    """A CartPole run with a budget it will not reach, yielded once it has finished some episodes.

    The process is killed on the way out if the test has not ended it.
    """
    proc = subprocess.Popen([sys.executable, "-m", "asyncrl", "train", "--env", "CartPole-v1",
                             "--workers", "2", "--frames", "50M", "--run-dir", str(run_dir), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        metrics = run_dir / "metrics.csv"
        deadline = time.monotonic() + timeout
        while not (metrics.exists() and len(metrics.read_text().splitlines()) > episodes):
            assert time.monotonic() < deadline and proc.poll() is None, "training did not get going"
            time.sleep(0.5)
        yield proc
    finally:
        proc.kill()
        proc.communicate()


class RecordingShared:
    """One learner's shared state, in-process: the learner loop without processes or a backend."""

    def __init__(self, net, target=None):
        from asyncrl.optim import SharedRMSprop

        self.net, self.target = net, target
        self.optimizer = SharedRMSprop(net.parameters())
        self.frames = 0
        self.target_updates = []

    def pull(self, tensors):
        with torch.no_grad():
            shared = list(self.net.parameters()) + list(self.net.buffers())
            for local, source in zip(tensors, shared, strict=True):
                local.copy_(source)

    def observe(self, obs):
        self.net.obs_norm.update(obs)

    def observe_returns(self, returns):
        self.net.reward_norm.update(returns)

    def push(self, grads, lr, measure=False):
        return self.optimizer.step(grads, lr, measure)

    def add_frames(self, n):
        self.frames += n
        return self.frames

    def should_stop(self):
        return False

    def report(self, kind, worker, payload):
        pass

    def target_network(self):
        return self.target

    def update_target(self):
        self.target_updates.append(self.frames)
        self.target.load_state_dict(self.net.state_dict())


def recording_segment_copies(monkeypatch, note=lambda: None):
    """Make the learner's algorithm keep a copy of each update's segments (one per environment).

    Returns the list it fills with ``(segments, note())``, one entry per update, ``note`` called
    as the update's loss is computed (e.g. the frame counter before the update).
    """
    import asyncrl.learner
    from asyncrl.algos import make_algorithm
    from asyncrl.algos.segment import Segment

    records = []

    def make_recording(config):
        algo = make_algorithm(config)
        loss = algo.loss

        def recording_loss(net, segments, target_net):
            records.append(([Segment(s.obs.clone(), s.actions.clone(), s.rewards.clone(), s.terminated,
                                     s.next_action) for s in segments], note()))
            return loss(net, segments, target_net)

        algo.loss = recording_loss
        return algo

    monkeypatch.setattr(asyncrl.learner, "make_algorithm", make_recording)
    return records


def recording_algorithm(monkeypatch):
    """Make the learner's algorithm record each update's segments with the network's state at their start.

    Returns the list it fills with ``(segments, start_state, end_state)``, one entry per update
    (one segment per environment): the LSTM state the loss starts from (one row per environment;
    None for a feed-forward network), and the state that replaying each segment's states
    s_0..s_{T-1} from it reaches (what acting reached). ``segment.obs`` is a view of the learner's
    buffer and is overwritten by later segments.
    """
    import asyncrl.learner
    from asyncrl.algos import make_algorithm

    records = []

    def make_recording(config):
        algo = make_algorithm(config)
        loss = algo.loss

        def recording_loss(net, segments, target_net):
            start = net.state
            with torch.no_grad():
                net(torch.cat([s.obs[:-1] for s in segments]), [len(s) for s in segments])
            records.append((list(segments), start, net.state))
            net.state = start
            return loss(net, segments, target_net)

        algo.loss = recording_loss
        return algo

    monkeypatch.setattr(asyncrl.learner, "make_algorithm", make_recording)
    return records
