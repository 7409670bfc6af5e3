import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


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


@contextlib.contextmanager
def long_training(run_dir, episodes: int = 5, timeout: float = 120):
    """A CartPole run with a budget it will not reach, yielded once it has finished some episodes.

    The process is killed on the way out if the test has not ended it.
    """
    proc = subprocess.Popen([sys.executable, "-m", "asyncrl", "train", "--env", "CartPole-v1",
                             "--workers", "2", "--frames", "50M", "--run-dir", str(run_dir)],
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
