"""bench/compare.py: asyncrl's A3C against SB3 A2C, frames/s side by side."""

import json
import os
import subprocess
import sys
from pathlib import Path

from asyncrl.config import ATARI_MAX_LEARNERS

COMPARE = Path(__file__).parent.parent / "bench" / "compare.py"


def test_compare_with_the_default_command_measures_both_and_runs_asyncrl_as_a_user_would(tmp_path):
    out = tmp_path / "compare.json"
    result = subprocess.run([sys.executable, str(COMPARE), "--seconds", "4", "--rounds", "1", "--default",
                             "--json", str(out)], capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    measured = json.loads(out.read_text())
    # the default command: no preset, no --workers, so the learners and environments are the defaults'
    assert measured["asyncrl_command"] == "asyncrl train --algo a3c --env ALE/Pong-v5"
    [ours], [theirs] = measured["asyncrl"], measured["sb3_a2c"]
    assert ours["frames"] > 0 and ours["steady_fps"] > 0
    assert ours["workers"] == min(os.cpu_count(), ATARI_MAX_LEARNERS)  # the default's: one learner per core
    assert theirs["frames"] > 0 and theirs["fps"] > 0
    assert measured["ratio"] == ours["steady_fps"] / theirs["fps"]
    assert "the default command" in result.stdout


def test_compare_refuses_learner_flags_with_the_default_command(tmp_path):
    result = subprocess.run([sys.executable, str(COMPARE), "--default", "--envs-per-worker", "4",
                             "--json", str(tmp_path / "c.json")], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "--default" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "c.json").exists()
