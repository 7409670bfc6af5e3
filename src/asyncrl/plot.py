"""Learning curves from run directories' ``metrics.csv``: return against frames and wall-clock time.

Each run's episode returns are smoothed by a trailing mean over ``window`` episodes. Runs that
share a label (by default: the same algorithm, network and environment, e.g. several seeds) are
drawn as one line, their mean on a common grid, with the spread between the lowest and highest
run shaded, over the range of frames (or time) that every one of them covers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asyncrl.config import is_atari
from asyncrl.run import METRICS, RunDirError, read_config, read_episodes

FIGSIZE = (12.0, 4.5)  # inches; at DPI this is a 1200 x 450 PNG
DPI = 100
GRID_POINTS = 200
MAX_WINDOW = 100


@dataclass
class Curve:
    run_dir: Path
    label: str
    env_id: str
    frames: np.ndarray
    wall_seconds: np.ndarray
    returns: np.ndarray


def default_label(run_dir: Path) -> str:
    config = read_config(run_dir)
    core = " LSTM" if config.net.core == "lstm" else ""
    return f"{config.algo.algo}{core} {config.env.env_id}"


def load_curve(run_dir: str | os.PathLike, label: str | None = None) -> Curve:
    """A run's episodes from metrics.csv, in the order they finished; RunDirError if there are none."""
    path = Path(run_dir)
    config = read_config(path)
    episodes = read_episodes(path / METRICS)
    if not episodes:
        raise RunDirError(f"{path} has no finished episodes to plot (metrics.csv is empty or missing)")
    frames, wall, returns = (np.asarray(column) for column in zip(*episodes, strict=True))
    order = np.argsort(frames, kind="stable")
    return Curve(path, label or default_label(path), config.env.env_id, frames[order], wall[order], returns[order])


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (cumulative[idx] - cumulative[start]) / (idx - start)


def auto_window(curves: Sequence[Curve]) -> int:
    """A tenth of the shortest run's episodes, between 1 and 100."""
    return int(np.clip(min(len(c.returns) for c in curves) // 10, 1, MAX_WINDOW))


def group_curves(curves: Sequence[Curve]) -> dict[str, list[Curve]]:
    groups: dict[str, list[Curve]] = {}
    for c in curves:
        groups.setdefault(c.label, []).append(c)
    return groups


def _on_grid(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each run interpolated on a common grid (NaN outside the range it covers); shape (runs, grid)."""
    grid = np.linspace(min(x[0] for x in xs), max(x[-1] for x in xs), GRID_POINTS)
    rows = []
    for x, y in zip(xs, ys, strict=True):
        row = np.interp(grid, x, y)
        row[(grid < x[0]) | (grid > x[-1])] = np.nan
        rows.append(row)
    return grid, np.vstack(rows)


def draw(ax, groups: dict[str, list[Curve]], window: int, x_of, colors=None) -> None:
    """One line per group on ``ax``: the mean over its runs, min-max shaded when there are several."""
    import warnings

    for i, (label, runs) in enumerate(groups.items()):
        color = colors[i] if colors is not None else f"C{i % 10}"
        ys = [smooth(c.returns, window) for c in runs]
        xs = [x_of(c) for c in runs]
        if len(runs) == 1:
            ax.plot(xs[0], ys[0], color=color, lw=1.5, label=label)
            continue
        grid, table = _on_grid(xs, ys)
        with warnings.catch_warnings():  # grid points no run covers are NaN on purpose
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(table, axis=0)
            low, high = np.nanmin(table, axis=0), np.nanmax(table, axis=0)
        # Only where every run has data: past the shortest run the mean would jump to the others'.
        everywhere = (~np.isnan(table)).all(axis=0)
        mean[~everywhere] = np.nan
        ax.plot(grid, mean, color=color, lw=1.5, label=f"{label} ({len(runs)} runs)")
        ax.fill_between(grid, low, high, where=everywhere, color=color, alpha=0.2, lw=0)


def _time_axis(curves: Sequence[Curve]) -> tuple[float, str]:
    longest = max(c.wall_seconds[-1] for c in curves)
    if longest >= 3 * 3600:
        return 3600.0, "hours"
    if longest >= 3 * 60:
        return 60.0, "minutes"
    return 1.0, "seconds"


def plot_runs(run_dirs: Sequence[str | os.PathLike], out: str | os.PathLike, *,
              labels: Sequence[str] | None = None, window: int | None = None, title: str | None = None) -> Path:
    """Draw the learning curves of ``run_dirs`` into the image ``out`` (PNG, or any format matplotlib
    writes: .pdf, .svg); returns its path."""
    if labels is not None and len(labels) != len(run_dirs):
        raise RunDirError(f"{len(labels)} labels for {len(run_dirs)} run directories: give one per run")
    curves = [load_curve(d, labels[i] if labels else None) for i, d in enumerate(run_dirs)]
    return plot_curves(curves, out, window=window, title=title)


def plot_curves(curves: Sequence[Curve], out: str | os.PathLike, *, window: int | None = None,
                title: str | None = None) -> Path:
    """Draw ``curves`` (from run directories, or built from another library's episodes, as the
    benchmarks do for their baselines) into the image ``out``; returns its path."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    from matplotlib import pyplot as plt
    from matplotlib.ticker import EngFormatter

    window = window or auto_window(curves)
    groups = group_curves(curves)
    scale, unit = _time_axis(curves)
    atari = all(is_atari(c.env_id) for c in curves)

    fig, (by_frames, by_time) = plt.subplots(1, 2, figsize=FIGSIZE, dpi=DPI, layout="constrained")
    draw(by_frames, groups, window, lambda c: c.frames)
    draw(by_time, groups, window, lambda c: c.wall_seconds / scale)
    by_frames.set_xlabel("emulator frames" if atari else "environment steps")
    by_frames.xaxis.set_major_formatter(EngFormatter(sep=""))
    by_time.set_xlabel(f"wall-clock {unit}")
    for ax in (by_frames, by_time):
        ax.set_ylabel(f"episode return (mean of last {window})")
        ax.grid(alpha=0.3)
    by_frames.legend(loc="best", fontsize="small")
    envs = sorted({c.env_id for c in curves})
    fig.suptitle(title or ", ".join(envs))
    out = Path(out)
    try:
        fig.savefig(out, dpi=DPI)
    except (OSError, ValueError) as exc:
        raise RunDirError(f"cannot write {out}: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        plt.close(fig)
    return out


def plot_sweep(sweep_dir: Path, runs, top: int, out: Path, lr_range: tuple[float, float] | None = None) -> Path:
    """A sweep at a glance: each run's score against its learning rate (the best ``top`` marked),
    and every run's learning curve coloured by its learning rate."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import EngFormatter, NullFormatter

    curves = []
    for run in runs:
        try:
            curves.append(load_curve(sweep_dir / run.name, f"{run.name} lr {run.lr:.2e}"))
        except RunDirError:
            continue  # not started, or no episode finished
    if not curves:
        raise RunDirError(f"no run in {sweep_dir} has finished an episode")
    scored = [r for r in runs if r.score is not None]
    best = sorted(scored, key=lambda r: r.score, reverse=True)[:top]
    fig, (by_lr, by_frames) = plt.subplots(1, 2, figsize=FIGSIZE, dpi=DPI, layout="constrained")
    if scored:
        by_lr.scatter([r.lr for r in scored], [r.score for r in scored], color="C0", label="run")
        by_lr.scatter([r.lr for r in best], [r.score for r in best], color="C3", label=f"top {len(best)}")
        mean = float(np.mean([r.score for r in best]))
        by_lr.axhline(mean, color="C3", ls="--", lw=1, label=f"top-{len(best)} mean {mean:.1f}")
        by_lr.legend(loc="best", fontsize="small")
    by_lr.set_xscale("log")
    by_lr.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels collide
    if lr_range is not None:
        by_lr.set_xlim(lr_range[0] / 1.2, lr_range[1] * 1.2)
    by_lr.set_xlabel("learning rate")
    by_lr.set_ylabel("score (mean return, last 100 episodes)")
    by_lr.grid(alpha=0.3)
    norm = LogNorm(vmin=min(r.lr for r in runs), vmax=max(r.lr for r in runs) * (1 + 1e-9))
    cmap = plt.get_cmap("viridis")
    lrs = {f"{r.name} lr {r.lr:.2e}": r.lr for r in runs}
    groups = group_curves(curves)
    draw(by_frames, groups, auto_window(curves), lambda c: c.frames,
         colors=[cmap(norm(lrs[label])) for label in groups])
    by_frames.set_xlabel("emulator frames" if all(is_atari(c.env_id) for c in curves) else "environment steps")
    by_frames.xaxis.set_major_formatter(EngFormatter(sep=""))
    by_frames.set_ylabel("episode return (smoothed)")
    by_frames.grid(alpha=0.3)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=by_frames, label="learning rate")
    fig.suptitle(f"learning-rate sweep: {curves[0].env_id}, {len(runs)} runs")
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


def plot_grid_sweep(sweep_dir: Path, groups: dict, out: Path) -> Path:
    """A grid sweep at a glance: each combination's runs and their mean score, and each
    combination's learning curve (its seeds averaged, min-max shaded)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import EngFormatter

    curves = []
    for label, runs in groups.items():
        for run in runs:
            try:
                curves.append(load_curve(sweep_dir / run.name, label))
            except RunDirError:
                continue  # not started, or no episode finished
    if not curves:
        raise RunDirError(f"no run in {sweep_dir} has finished an episode")
    fig, (by_combo, by_frames) = plt.subplots(1, 2, figsize=FIGSIZE, dpi=DPI, layout="constrained")
    labels = list(groups)
    for i, label in enumerate(labels):
        scores = [r.score for r in groups[label] if r.score is not None]
        by_combo.scatter([i] * len(scores), scores, color=f"C{i % 10}")
        if scores:
            by_combo.hlines(float(np.mean(scores)), i - 0.3, i + 0.3, color=f"C{i % 10}", lw=2)
    by_combo.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize="small")
    by_combo.set_ylabel("score (mean return, last 100 episodes)")
    by_combo.grid(alpha=0.3)
    plotted = group_curves(curves)
    draw(by_frames, plotted, auto_window(curves), lambda c: c.frames,
         colors=[f"C{labels.index(label) % 10}" for label in plotted])
    by_frames.set_xlabel("emulator frames" if all(is_atari(c.env_id) for c in curves) else "environment steps")
    by_frames.xaxis.set_major_formatter(EngFormatter(sep=""))
    by_frames.set_ylabel("episode return (smoothed)")
    by_frames.legend(loc="best", fontsize="small")
    by_frames.grid(alpha=0.3)
    n_runs = sum(len(r) for r in groups.values())
    fig.suptitle(f"grid sweep: {curves[0].env_id}, {len(groups)} settings, {n_runs} runs")
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out
