"""What the benchmark scripts share: the machine's description and the time to reach a score."""

from __future__ import annotations

import csv
import math
import os
import platform
from collections import deque
from pathlib import Path


def machine() -> str:
    """Cores, CPU model, its widest vector units and Python: a virtual machine's "Intel Xeon" may be
    placed on hosts whose matrix multiply differs 2x (AVX2 against AVX-512 and AMX), so say which."""
    cpu = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not flags:
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    units = [name for flag, name in (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("amx_tile", "AMX")) if flag in flags]
    vector = f" ({', '.join(units)})" if units else ""
    return f"{os.cpu_count()} cores, {cpu}{vector}, Python {platform.python_version()}"


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


def plot_runs(out: Path, results: dict, baseline_label: str | None, window: int, title: str) -> Path | None:
    """Every seed's curve, asyncrl's and the baseline's (its metrics.csv), against frames or steps and
    wall-clock, into ``out``; None if no episode ended."""
    import numpy as np

    from asyncrl.plot import Curve, load_curve, plot_curves

    curves = [load_curve(r["run_dir"], "asyncrl") for r in results["asyncrl"] if r["curve"]]
    for r in results.get("baseline") or []:
        with open(Path(r["run_dir"]) / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        if rows:
            curves.append(Curve(Path(r["run_dir"]), baseline_label, results["env"],
                                np.array([float(x["frames"]) for x in rows]),
                                np.array([float(x["wall_seconds"]) for x in rows]),
                                np.array([float(x["return"]) for x in rows])))
    return plot_curves(curves, out, window=window, title=title) if curves else None
