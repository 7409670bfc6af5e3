"""A learning curve as a Markdown table: mean episode return against frames and wall-clock time.

Reads a run directory's metrics.csv (one row per finished episode) and averages the returns of
the episodes that finished in each of ``--points`` equal slices of the run's frames. With
``--diagnostics`` it adds the learners' training statistics from the run's TensorBoard events,
averaged over the same slices: the policy's entropy, the value's explained variance, the
advantages' spread, the gradient norm and the update's size relative to the parameters; for the Q
methods, the TD loss and the mean Q(s, a) of the actions taken. A Q method's training returns mix
actors of final epsilon 0.01, 0.1 and 0.5; where metrics.csv names each game's final epsilon, the
table also has each group's mean return per slice (the 0.01 actors are the closest to evaluation).

    asyncrl train --env HalfCheetah-v5 --workers 2 --max-seconds 900 --run-dir runs/cheetah
    python bench/curve.py runs/cheetah --points 10 --diagnostics
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def curve(run_dir: Path, points: int) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as f:
        # final_epsilon: empty for A3C, absent from runs recorded before the column existed
        rows = [(int(r["frames"]), float(r["wall_seconds"]), float(r["return"]),
                 float(r["final_epsilon"]) if r.get("final_epsilon") else None) for r in csv.DictReader(f)]
    if not rows:
        raise ValueError(f"{run_dir}: no finished episodes in metrics.csv yet")
    epsilons = sorted({r[3] for r in rows if r[3] is not None})
    last = rows[-1][0]
    out = []
    for k in range(points):
        lo, hi = last * k / points, last * (k + 1) / points
        chunk = [r for r in rows if lo < r[0] <= hi or (k == 0 and r[0] == 0)]
        if chunk:
            by_epsilon = {}
            for eps in epsilons:
                games = [r[2] for r in chunk if r[3] == eps]
                by_epsilon[eps] = sum(games) / len(games) if games else None
            out.append({"frames": chunk[-1][0], "wall_seconds": chunk[-1][1], "episodes": len(chunk),
                        "mean_return": sum(r[2] for r in chunk) / len(chunk), "by_epsilon": by_epsilon})
    return out


DIAGNOSTICS = {  # column -> TensorBoard tag
    "entropy": "losses/entropy",
    "expl. var.": "losses/explained_variance",
    "EV pooled": "losses/pooled_explained_variance",  # over every state of a report, not per batch
    "V spread": "losses/value_spread",  # std of V over a batch's states: ~0 when the torso collapsed
    "adv. std": "losses/advantage_std",
    "value loss": "losses/value_loss",
    "grad norm": "losses/grad_norm",
    "update/param": "losses/update_ratio",
    # The Q methods': the squared TD error per step and the mean Q(s, a) of the actions taken.
    "TD loss": "losses/td_loss",
    "mean Q": "losses/q_values",
    "Q spread": "losses/q_spread",  # each action's Q std over a batch's states, averaged
}


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the run's TensorBoard events: tag -> [(frames, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tb"), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def slice_means(series: list[tuple[int, float]], edges: list[tuple[float, float]]) -> list[float | None]:
    out = []
    for lo, hi in edges:
        values = [v for f, v in series if lo < f <= hi]
        out.append(sum(values) / len(values) if values else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--diagnostics", action="store_true",
                        help="add the learners' statistics (entropy, explained variance, ...) per slice")
    args = parser.parse_args()
    if args.points < 1:
        parser.exit(2, f"curve.py: --points must be at least 1, got {args.points}\n")
    if not (args.run_dir / "metrics.csv").is_file():
        parser.exit(2, f"curve.py: {args.run_dir} has no metrics.csv: not a run directory (asyncrl train "
                       "--run-dir), or its run has not started\n")
    try:
        points = curve(args.run_dir, args.points)
    except ValueError as error:
        parser.exit(2, f"curve.py: {error}\n")
    summary_file = args.run_dir / "summary.json"
    if summary_file.exists():  # absent while the run is still going
        summary = json.loads(summary_file.read_text())
        print(f"{summary['algo']} on {summary['env']}, {summary['workers']} workers: {summary['frames']:,} "
              f"frames in {summary['wall_seconds']:.0f} s ({summary['frames_per_second']:,.0f} frames/s)\n")
    columns: dict[str, list[float | None]] = {
        f"return at ε {eps:g}": [p["by_epsilon"][eps] for p in points] for eps in points[0]["by_epsilon"]}
    if args.diagnostics:
        tags = scalars(args.run_dir)
        edges = [(0 if k == 0 else points[k - 1]["frames"], p["frames"]) for k, p in enumerate(points)]
        columns.update({name: slice_means(tags[tag], edges) for name, tag in DIAGNOSTICS.items() if tag in tags})
    print("| frames | wall-clock | episodes in slice | mean return |" + "".join(f" {c} |" for c in columns))
    print("|---|---|---|---|" + "---|" * len(columns))
    for k, p in enumerate(points):
        extra = "".join(" – |" if v[k] is None else f" {v[k]:.1f} |" if name.startswith("return") else f" {v[k]:.3g} |"
                        for name, v in columns.items())
        print(f"| {p['frames']:,} | {p['wall_seconds'] / 60:.1f} min | {p['episodes']} | {p['mean_return']:.1f} |{extra}")


if __name__ == "__main__":
    main()
