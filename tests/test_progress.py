"""The progress line's estimate of the time left."""

import time

from asyncrl.progress import ProgressReporter


def test_eta_counts_frames_left_at_the_current_speed():
    line = ProgressReporter(1_000_000, 10).line(500_000, 1_000.0, 10, 5.0, 60.0)
    assert "ETA 0:08:20" in line and "(50.0%)" in line


def test_eta_ends_at_max_seconds_when_that_comes_first():
    reporter = ProgressReporter(80_000_000, 10, deadline=time.monotonic() + 600)
    line = reporter.line(1_000_000, 2_000.0, 10, -20.0, 60.0)
    assert "ETA 0:09:59" in line or "ETA 0:10:00" in line
