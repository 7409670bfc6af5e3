"""What the benchmark scripts share: the machine's description and the time to reach a score."""

from __future__ import annotations

import csv
import math
import os
import platform
from collections import deque
from pathlib import Path


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def first_reaching(metrics: Path, target: float, window: int) -> dict | None:
    """The episode at which the mean of the last ``window`` returns in a run's metrics.csv first
    reached ``target``: its number, the frames and wall-clock seconds then, and the mean."""
    recent: deque[float] = deque(maxlen=window)
    with open(metrics, newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=1):
            recent.append(float(row["return"]))
            if len(recent) == window and sum(recent) / window >= target:
                return {"episodes": n, "frames": int(row["frames"]), "wall_seconds": float(row["wall_seconds"]),
                        "mean_return": sum(recent) / window}
    return None


def episode_returns(metrics: Path) -> list[float]:
    """The returns of a run's finished episodes (asyncrl's metrics.csv, or a baseline's alike)."""
    with open(metrics, newline="") as f:
        return [float(row["return"]) for row in csv.DictReader(f)]


def mean_or_none(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def fmt(x: float | None, digits: int = 1) -> str:
    """A table cell: thousands separated, a dash for a missing value."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"
