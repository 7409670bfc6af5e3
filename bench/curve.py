"""A learning curve as a Markdown table: mean episode return against frames and wall-clock time.

Reads a run directory's metrics.csv (one row per finished episode) and averages the returns of
the episodes that finished in each of ``--points`` equal slices of the run's frames.

    asyncrl train --env HalfCheetah-v5 --workers 2 --max-seconds 900 --run-dir runs/cheetah
    python bench/curve.py runs/cheetah --points 10
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def curve(run_dir: Path, points: int) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = [(int(r["frames"]), float(r["wall_seconds"]), float(r["return"])) for r in csv.DictReader(f)]
    if not rows:
        raise SystemExit(f"{run_dir}: no finished episodes in metrics.csv")
    last = rows[-1][0]
    out = []
    for k in range(points):
        lo, hi = last * k / points, last * (k + 1) / points
        chunk = [r for r in rows if lo < r[0] <= hi or (k == 0 and r[0] == 0)]
        if chunk:
            out.append({"frames": chunk[-1][0], "wall_seconds": chunk[-1][1], "episodes": len(chunk),
                        "mean_return": sum(r[2] for r in chunk) / len(chunk)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--points", type=int, default=10)
    args = parser.parse_args()
    summary_file = args.run_dir / "summary.json"
    if summary_file.exists():  # absent while the run is still going
        summary = json.loads(summary_file.read_text())
        print(f"{summary['algo']} on {summary['env']}, {summary['workers']} workers: {summary['frames']:,} "
              f"frames in {summary['wall_seconds']:.0f} s ({summary['frames_per_second']:,.0f} frames/s)\n")
    print("| frames | wall-clock | episodes in slice | mean return |")
    print("|---|---|---|---|")
    for p in curve(args.run_dir, args.points):
        print(f"| {p['frames']:,} | {p['wall_seconds'] / 60:.1f} min | {p['episodes']} | {p['mean_return']:.1f} |")


if __name__ == "__main__":
    main()
