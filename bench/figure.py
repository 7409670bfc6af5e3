"""The paper's Figure 1 on this machine: the five games side by side, every method's learning curve.

Drawn from the rows ``table.atari_rows`` makes of the committed results (today's defaults, 60
minutes), from each run's ``curve_points`` (bench/atari.py keeps them: every minute, the mean of the
last 10 games). Top row: score against wall-clock minutes; bottom row: against emulator frames. A
method's line is the mean over its seeds where every seed has a point; SB3 A2C is dashed. Each row's
final evaluation (30 episodes, no-op starts) is a dot at its mean minutes and frames, and the
game's random and human scores are grey lines. A row whose runs kept no curve (made before curves
were kept) shows its dot alone. `bench/table.py --figure OUT` writes it.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

# The paper's Figure 1 games, in its order.
FIVE_GAMES = ("BeamRider", "Breakout", "Pong", "Qbert", "SpaceInvaders")
METHODS = ("A3C FF", "A3C LSTM", "n-step Q", "one-step Q", "one-step Sarsa")
BASELINE = "SB3 A2C"
COLOURS = dict(zip((*METHODS, BASELINE), ("C0", "C1", "C2", "C3", "C4", "0.35"), strict=True))


def _curves(row: dict) -> list[np.ndarray]:
    """Each seed's kept curve as an array of (minutes, frames, mean return) rows."""
    return [np.asarray(e["run"]["curve_points"], dtype=float) for e in row["entries"]
            if e["run"].get("curve_points")]


def mean_by_minutes(curves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The seeds' mean at each minute every seed has a point for (a run's last point, at its last
    game, counts for the minute it falls in)."""
    per_seed = [{int(np.ceil(m - 1e-9)): r for m, _, r in c} for c in curves]
    minutes = sorted(set.intersection(*(set(s) for s in per_seed)))
    return np.array(minutes, dtype=float), np.array([statistics.mean(s[m] for s in per_seed) for m in minutes])


def mean_by_frames(curves: list[np.ndarray], points: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """The seeds' mean on a grid of frames up to the fewest any seed reached, each seed's curve
    interpolated between its points."""
    lo = max(c[0, 1] for c in curves)
    hi = min(c[-1, 1] for c in curves)
    if hi <= lo:
        return np.array([hi]), np.array([statistics.mean(float(c[-1, 2]) for c in curves)])
    grid = np.linspace(lo, hi, points)
    return grid, np.mean([np.interp(grid, c[:, 1], c[:, 2]) for c in curves], axis=0)


def five_games(rows: list[dict], out: Path) -> tuple[Path, list[str]]:
    """Draw the figure into ``out``; returns it and the rows drawn as a dot alone (no kept curve)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import EngFormatter

    from asyncrl.scores import lookup

    fig, axes = plt.subplots(2, len(FIVE_GAMES), figsize=(22, 8), dpi=100, layout="constrained")
    without: list[str] = []
    for col, game in enumerate(FIVE_GAMES):
        by_minutes, by_frames = axes[0, col], axes[1, col]
        drawn = False
        for row in rows:
            kind_ok = row["kind"] == "asyncrl" and row["method"] in METHODS
            if row["task"] != game or not (kind_ok or (row["kind"] == "baseline" and row["method"] == BASELINE)):
                continue
            drawn = True
            style = {"color": COLOURS[row["method"]], "linestyle": "--" if row["kind"] == "baseline" else "-"}
            label = f"{row['method']} ({len(row['means'])} seed{'s' if len(row['means']) > 1 else ''})"
            curves = _curves(row)
            if curves:
                if len(curves) < len(row["means"]):  # older seeds' run directories were not kept: a dot only
                    label += f"; curve: {len(curves)} of them"
                by_minutes.plot(*mean_by_minutes(curves), label=label, **style)
                by_frames.plot(*mean_by_frames(curves), label=label, **style)
            else:
                without.append(f"{game} {row['method']}")
                label += ", no curve kept"
            minutes, frames = statistics.mean(row["minutes"]), row["frames"]
            by_minutes.plot([minutes], [row["mean"]], "o", color=style["color"], label=None if curves else label)
            by_frames.plot([frames], [row["mean"]], "o", color=style["color"])
        reference = lookup(f"ALE/{game}-v5")
        for ax in (by_minutes, by_frames):
            if reference is not None:
                ax.axhline(reference.random, color="0.6", linestyle=":", linewidth=1)
                ax.axhline(reference.human, color="0.6", linestyle="-.", linewidth=1)
            ax.grid(alpha=0.3)
        by_minutes.set_xlim(0, 62)
        by_frames.set_xlim(0, None if drawn else 40e6)
        by_minutes.set_title(game)
        by_minutes.set_xlabel("wall-clock minutes (2 cores)")
        by_frames.set_xlabel("emulator frames")
        by_frames.xaxis.set_major_formatter(EngFormatter(sep=""))
        if col == 0:
            by_minutes.set_ylabel("score: mean of the last 10 games; dot: final evaluation")
            by_frames.set_ylabel("score")
        if by_minutes.get_legend_handles_labels()[0]:
            by_minutes.legend(fontsize="small", loc="best")
    fig.suptitle("asyncrl's defaults on the paper's five games, 60 minutes on 2 cores "
                 "(dotted: random play; dash-dot: human; dashed line: SB3 A2C)")
    fig.savefig(out)
    plt.close(fig)
    return out, without
