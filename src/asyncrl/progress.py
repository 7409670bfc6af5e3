"""Live training progress: a rich status line on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from datetime import timedelta
from typing import Self

from rich.console import Console
from rich.live import Live
from rich.text import Text


class _Console(Console):
    """rich's Console, but a closed pipe only silences it: rich's own answer is SystemExit(1),
    which would end a training run at its next progress line (``asyncrl train | head``)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        with contextlib.suppress(OSError, ValueError):  # nothing buffered may fail again at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--:--"
    return str(timedelta(seconds=int(max(0.0, seconds))))


class ProgressReporter:
    """Shows frames, frames/s, episodes, recent mean return, elapsed time and ETA."""

    def __init__(self, total_frames: int, log_interval: float, console: Console | None = None,
                 enabled: bool = True, deadline: float | None = None):
        self.total = total_frames
        self.deadline = deadline  # time.monotonic() at which --max-seconds ends the run, if set
        self.log_interval = log_interval
        self.console = console or _Console(stderr=False)
        self.enabled = enabled
        self.live: Live | None = None
        self._last_line = 0.0

    def __enter__(self) -> Self:
        if self.enabled and self.console.is_terminal:
            self.live = Live(Text("starting learners..."), console=self.console, refresh_per_second=4,
                             transient=False)
            self._guarded(self.live.__enter__)
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self._guarded(self.live.__exit__, *exc)

    def _guarded(self, write, *args) -> None:
        """Progress is a courtesy: output that fails (a full disk, a lost terminal) turns it off."""
        try:
            write(*args)
        except OSError:
            self.enabled = False
            self.console.quiet = True

    def line(self, frames: int, fps: float, episodes: int, mean_return: float | None,
             elapsed: float) -> str:
        eta = (self.total - frames) / fps if fps > 0 else math.inf
        if self.deadline is not None:
            eta = min(eta, max(0.0, self.deadline - time.monotonic()))
        mean = f"{mean_return:.2f}" if mean_return is not None else "n/a"
        return (
            f"frames {frames:,}/{self.total:,} ({100 * frames / self.total:.1f}%) | {fps:,.0f} frames/s"
            f" | episodes {episodes:,} | mean return (last 100) {mean}"
            f" | elapsed {_duration(elapsed)} | ETA {_duration(eta)}"
        )

    def update(self, frames: int, fps: float, episodes: int, mean_return: float | None,
               elapsed: float, force: bool = False) -> None:
        if not self.enabled:
            return
        text = self.line(frames, fps, episodes, mean_return, elapsed)
        if self.live:
            self._guarded(self.live.update, Text(text))
            return
        now = time.monotonic()
        if force or now - self._last_line >= self.log_interval:
            self._last_line = now
            self._guarded(lambda: self.console.print(text, highlight=False, soft_wrap=True))

    def message(self, text: str) -> None:
        if self.enabled:
            self._guarded(lambda: self.console.print(text, highlight=False, soft_wrap=True))
