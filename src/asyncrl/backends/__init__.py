"""Where learners run: ``local`` (processes on this machine) and ``ray`` (actors on a cluster).

A backend starts the learners around the shared state, relays their events to the trainer,
restarts learners that die (within ``RestartBudget``), and snapshots the shared state for
checkpoints. The trainer (``asyncrl.trainer``) is the same for every backend; it also watches each
learner's progress (``HangWatch``) and has the backend kill one that hangs, to be restarted like
one that died.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass, field

from asyncrl.config import HANG_FACTOR, HANG_MIN_SECONDS, HANG_STARTUP_SECONDS

# Learners that keep dying are a bug or a broken machine, not bad luck: stop instead of looping.
MAX_RESTARTS_PER_MINUTE = 5


class RestartBudget:
    """Allows a learner restart unless more than ``per_minute`` happened within the last minute."""

    def __init__(self, per_minute: int = MAX_RESTARTS_PER_MINUTE):
        self.per_minute = per_minute
        self.times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        self.times.append(now)
        while now - self.times[0] > 60.0:
            self.times.popleft()
        return len(self.times) <= self.per_minute

    def exhausted_message(self, cause: str) -> str:
        return f"{cause}; more than {self.per_minute} learner restarts within a minute, so the run stops"


# The trainer looks at the learners every fraction of a second; a longer gap means it was not
# running (stopped with Ctrl-Z, a slow checkpoint, the machine suspended), and that time does not
# count against the learners, which were stopped too or could not be seen.
PAUSE_SECONDS = 5.0


@dataclass
class _Progress:
    count: int  # the learner's progress counter when it last changed (frames, on every backend)
    changed: float  # when that was
    moved: bool = False  # it has changed since the learner (re)started
    intervals: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    flagged: bool = False  # reported hung: not again until it is restarted


class HangWatch:
    """Tells which learners are alive but make no progress: a deadlocked environment, a simulator
    waiting on a socket that never answers. Such a learner holds its share of the run forever
    without ever dying, so restarting dead learners alone never replaces it.

    ``limit`` seconds without progress (None: ``HANG_FACTOR`` times the learner's usual time
    between updates, at least ``HANG_MIN_SECONDS``; 0: never). Until a learner's first update
    since it (re)started, at least ``HANG_STARTUP_SECONDS``.
    """

    def __init__(self, limit: float | None):
        self.limit = limit
        self.learners: dict[int, _Progress] = {}
        self.last_look: float | None = None

    def started(self, worker: int, count: int, now: float) -> None:
        """Learner ``worker`` was (re)started with its counter at ``count``."""
        self.learners[worker] = _Progress(count, now)

    def _allowed(self, p: _Progress) -> float:
        if not p.moved:
            return max(HANG_STARTUP_SECONDS, self.limit or 0.0)
        if self.limit is not None:
            return self.limit
        usual = statistics.median(p.intervals) if p.intervals else 0.0
        return max(HANG_MIN_SECONDS, HANG_FACTOR * usual)

    def look(self, now: float, progress: dict[int, int]) -> list[tuple[int, str]]:
        """(worker, why) for each learner that has just been found hung, given each running
        learner's progress counter now."""
        if self.limit == 0:
            return []
        if self.last_look is not None and now - self.last_look > PAUSE_SECONDS:
            for p in self.learners.values():  # the trainer was not looking: that time does not count
                p.changed += now - self.last_look
        self.last_look = now
        hung = []
        for worker, count in progress.items():
            p = self.learners.get(worker)
            if p is None:
                self.started(worker, count, now)
                continue
            if count != p.count:
                if p.moved:
                    p.intervals.append(now - p.changed)
                p.count, p.changed, p.moved = count, now, True
                continue
            silent, allowed = now - p.changed, self._allowed(p)
            if silent > allowed and not p.flagged:
                p.flagged = True
                usual = (f"its updates came every {statistics.median(p.intervals):.2g} s" if p.intervals
                         else "since it started" if not p.moved else "after its first update")
                why = f"hung: no progress for {silent:.0f} s ({usual}; the limit is {allowed:.0f} s, --hang-seconds)"
                hung.append((worker, why))
        return hung
