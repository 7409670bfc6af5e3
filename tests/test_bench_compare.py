"""bench/compare.py: asyncrl's A3C against SB3 A2C, frames/s side by side."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asyncrl.defaults import ATARI_MAX_LEARNERS
from conftest import bench_module

COMPARE = Path(__file__).parent.parent / "bench" / "compare.py"
TOO_SHORT = "too short to measure steady speed"


def test_compare_with_the_default_command_measures_both_and_runs_asyncrl_as_a_user_would(tmp_path, own_tempdir):
    out = tmp_path / "compare.json"
    result = subprocess.run([sys.executable, str(COMPARE), "--seconds", "4", "--rounds", "1", "--default",
                             "--json", str(out)], capture_output=True, text=True, check=False, timeout=300)
    assert out.exists(), result.stderr
    measured = json.loads(out.read_text())
    # the default command: no preset, no --workers, so the learners and environments are the defaults'
    assert measured["asyncrl_command"] == "asyncrl train --algo a3c --env ALE/Pong-v5"
    [ours], [theirs] = measured["asyncrl"], measured["sb3_a2c"]
    assert ours["workers"] == min(os.cpu_count(), ATARI_MAX_LEARNERS)  # the default's: one learner per core
    assert theirs["frames"] > 0 and theirs["fps"] > 0
    assert not list(own_tempdir.glob("SB3-*"))  # SB3's own logger folder, which the bench does not want
    # 4 s may end before every learner has started on a busy host: then there is no steady speed.
    if ours["steady_fps"] is None:
        assert result.returncode == 3, result.stderr
        assert TOO_SHORT in result.stdout and "--seconds" in result.stderr and "Traceback" not in result.stderr
        assert measured["ratio"] is None
    else:
        assert result.returncode == 0, result.stderr
        assert ours["frames"] > 0 and ours["steady_fps"] > 0
        assert measured["ratio"] == ours["steady_fps"] / theirs["fps"]
        assert "the default command" in result.stdout


def test_compare_refuses_learner_flags_with_the_default_command(tmp_path):
    result = subprocess.run([sys.executable, str(COMPARE), "--default", "--envs-per-worker", "4",
                             "--json", str(tmp_path / "c.json")], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "--default" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "c.json").exists()


def test_a_run_too_short_to_measure_is_said_so_and_left_out_of_the_median():
    compare = bench_module("compare")
    line = compare.round_line(2, 3, "asyncrl A3C", None, 4)
    assert TOO_SHORT in line and "4 s" in line and line.startswith("round 2/3")
    assert "1,234 frames/s" in compare.round_line(1, 3, "asyncrl A3C", 1234.4, 4)
    assert compare.median_of_measured([None, 300.0, 100.0]) == 200.0
    assert compare.median_of_measured([None, None]) is None


def test_compare_with_no_asyncrl_run_measured_says_so_writes_nulls_and_exits_3(tmp_path, monkeypatch, capsys):
    pytest.importorskip("stable_baselines3")  # compare.py refuses to start without it
    compare = bench_module("compare")
    # Learners that never all started, whatever the host's speed: the runs themselves are stand-ins.
    monkeypatch.setattr(compare, "measure", lambda *args: {"workers": 2, "steady_fps": None, "overall_fps": 10.0,
                                                           "frames": 40, "process_seconds": 9.0})
    monkeypatch.setattr(compare, "run_sb3", lambda seconds: {"fps": 500.0, "frames": 2000})
    out = tmp_path / "compare.json"
    with pytest.raises(SystemExit) as exit_:
        compare.main(["--seconds", "0.1", "--rounds", "2", "--json", str(out)])
    assert exit_.value.code == 3
    printed = capsys.readouterr()
    assert printed.out.count(TOO_SHORT) == 2 and "500 frames/s" in printed.out
    [line] = printed.err.strip().splitlines()
    assert "no asyncrl run was long enough to measure its steady speed" in line and "--seconds" in line
    measured = json.loads(out.read_text())
    assert measured["ratio"] is None and [r["steady_fps"] for r in measured["asyncrl"]] == [None, None]


def test_compare_takes_the_median_of_the_rounds_that_measured(tmp_path, monkeypatch, capsys):
    pytest.importorskip("stable_baselines3")
    compare = bench_module("compare")
    speeds = iter([None, 900.0, 1100.0])
    monkeypatch.setattr(compare, "measure", lambda *args: {"workers": 2, "steady_fps": next(speeds),
                                                           "overall_fps": 10.0, "frames": 40, "process_seconds": 9.0})
    monkeypatch.setattr(compare, "run_sb3", lambda seconds: {"fps": 500.0, "frames": 2000})
    out = tmp_path / "compare.json"
    compare.main(["--seconds", "0.1", "--rounds", "3", "--json", str(out)])
    printed = capsys.readouterr().out
    assert printed.count(TOO_SHORT) == 1
    assert "1,000 frames/s (median of 2 of 3 runs; 1 too short to measure)" in printed and "ratio: 2.00x" in printed
    assert json.loads(out.read_text())["ratio"] == 2.0
