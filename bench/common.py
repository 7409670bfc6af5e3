"""What the benchmark scripts share: the machine's description, the time to reach a score, a runner's gait."""

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


def curve_points(metrics: Path, window: int, every_seconds: float = 60.0) -> list[list[float]]:
    """A run's learning curve, small enough for its result file: at every ``every_seconds`` of
    training and at its last game, [minutes, frames, mean return of the last ``window`` games], as
    of the last game ended by then; nothing before ``window`` games have ended."""
    with open(metrics, newline="") as f:
        games = sorted((float(r["wall_seconds"]), int(r["frames"]), float(r["return"])) for r in csv.DictReader(f))
    returns = [g[2] for g in games]

    def point(seconds: float, ended: int) -> list[float]:
        return [round(seconds / 60, 3), games[ended - 1][1], round(sum(returns[ended - window : ended]) / window, 2)]

    points, ended, due = [], 0, every_seconds
    while games and due < games[-1][0]:
        while games[ended][0] <= due:
            ended += 1
        if ended >= window:
            points.append(point(due, ended))
        due += every_seconds
    if len(games) >= window:
        points.append(point(games[-1][0], len(games)))
    return points


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


class Gait:
    """How a planar runner (HalfCheetah, Hopper, Walker2d: root joints rootx, rootz, rooty) moves in
    the evaluation's episodes: its mean forward velocity and the fraction of steps its torso is
    upright. A score alone hides both: a HalfCheetah running on its back and a Hopper standing
    still for 1,000 steps each settle at about 1,000."""

    def __init__(self) -> None:
        self.velocity: list[float] = []
        self.pitch: list[float] = []

    @staticmethod
    def applies(env) -> bool:
        model = getattr(env.unwrapped, "model", None)
        return model is not None and model.njnt >= 3 and [model.joint(i).name for i in range(3)] == [
            "rootx", "rootz", "rooty"]

    def __call__(self, env) -> None:
        data = env.unwrapped.data
        self.velocity.append(float(data.qvel[0]))
        self.pitch.append(float(data.qpos[2]))

    def summary(self) -> dict:
        import numpy as np

        return {"forward_velocity": round(float(np.mean(self.velocity)), 3),
                "upright": round(float(np.mean(np.cos(self.pitch) > 0)), 3)}


def replay_gait(run_dir, episodes: int) -> tuple[dict | None, list[float]]:
    """A run's evaluation played again with a Gait watching (asyncrl's agent: its seed and mean
    action, the same games as `asyncrl evaluate`): the gait (None for a task that is not a planar
    runner) and the episodes' returns."""
    from asyncrl.agent import load

    agent = load(run_dir)
    env = agent.make_env()
    try:
        gait = Gait() if Gait.applies(env) else None
        returns = [e.ret for e in agent.episodes(env, episodes, gait)]
    finally:
        env.close()
    return (gait.summary() if gait is not None else None), returns


def sb3_episodes(model, env, episodes: int) -> tuple[list[float], list[int], dict | None]:
    """An SB3 model's mean action played for ``episodes`` episodes in a one-environment VecEnv (as
    bench/mujoco.py evaluates its baseline): their returns, lengths and, for a planar runner, gait."""
    task = env.venv.envs[0]  # both callers wrap the VecEnv in VecNormalize
    gait = Gait() if Gait.applies(task) else None
    returns: list[float] = []
    lengths: list[int] = []
    obs = env.reset()
    while len(returns) < episodes:
        if gait is not None:
            gait(task)
        action, _ = model.predict(obs, deterministic=True)
        obs, _, done, infos = env.step(action)
        if done[0]:
            returns.append(float(infos[0]["episode"]["r"]))
            lengths.append(int(infos[0]["episode"]["l"]))
    return returns, lengths, (gait.summary() if gait is not None else None)


def silent_sb3_logger():
    """A logger for an SB3 baseline that writes nothing anywhere. With verbose=0 and no tensorboard_log,
    SB3 still makes an empty folder, tempdir/SB3-<date-time>, for every learn(); the benches keep their
    own metrics.csv, so they hand SB3 this logger instead (set_logger) and leave the temp folder alone."""
    from stable_baselines3.common.logger import Logger

    return Logger(folder=None, output_formats=[])
