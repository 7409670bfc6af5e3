"""Where learners run: ``local`` (processes on this machine) and ``ray`` (actors on a cluster).

A backend starts the learners around the shared state, relays their events to the trainer,
restarts learners that die (within ``RestartBudget``), and snapshots the shared state for
checkpoints. The trainer (``asyncrl.trainer``) is the same for every backend.
"""

from __future__ import annotations

import time
from collections import deque

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
