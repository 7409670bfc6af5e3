"""Scaling with the number of learners: frames/s and time to a score, beside the paper's speed-ups.

For each learner count n, one real training run (`asyncrl train --workers n`) that stops itself
once the mean return of the last ``--episodes`` episodes reaches ``--score`` (or at ``--cap``
seconds). Reported per n: steady frames/s, wall-clock seconds and frames until the score was
first reached (from metrics.csv, start-up included), and the speed-up in time over 1 learner
next to the paper's (Mnih et al. 2016, Table 2: average over 7 Atari games, 16-core machine).
Repeats are interleaved across learner counts and the median is reported.

    python bench/scaling.py --env CartPole-v1 --score 195 --workers 1 2 4 8 16 --repeats 2
    python bench/scaling.py --algo one-step-q --env CartPole-v1 --score 195

Extra `asyncrl train` flags go after `--`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import first_reaching, machine

# The paper's Table 2: speed-up in reaching a fixed score with n threads over 1 thread.
PAPER_SPEEDUP = {
    "one-step-q": {1: 1.0, 2: 3.0, 4: 6.3, 8: 13.3, 16: 24.1},
    "one-step-sarsa": {1: 1.0, 2: 2.8, 4: 5.9, 8: 13.1, 16: 22.1},
    "n-step-q": {1: 1.0, 2: 2.7, 4: 5.9, 8: 10.7, 16: 17.2},
    "a3c": {1: 1.0, 2: 2.1, 4: 3.7, 8: 6.9, 16: 12.5},
}


def run(algo: str, env: str, workers: int, score: float, episodes: int, cap: float, seed: int,
        extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        subprocess.run([sys.executable, "-m", "asyncrl", "train", "--algo", algo, "--env", env,
                        "--workers", str(workers), "--stop-at-return", str(score), "--stop-episodes", str(episodes),
                        "--max-seconds", str(cap), "--seed", str(seed), "--run-dir", str(run_dir), "--quiet",
                        *extra], check=True)
        summary = json.loads((run_dir / "summary.json").read_text())
        reached = first_reaching(run_dir / "metrics.csv", score, episodes)
    return {"workers": workers, "seed": seed, "steady_fps": summary["steady_frames_per_second"],
            "reached": reached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", default="a3c", choices=sorted(PAPER_SPEEDUP))
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--score", type=float, default=195.0)
    parser.add_argument("--episodes", type=int, default=20, help="episodes in the running mean")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--cap", type=float, default=600.0, help="seconds before a run gives up")
    parser.add_argument("--repeats", type=int, default=2, help="runs per learner count (seeds 0, 1, ...)")
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements here")
    parser.add_argument("extra", nargs="*", help="more `asyncrl train` flags, after --")
    args = parser.parse_args()

    runs: dict[int, list[dict]] = {n: [] for n in args.workers}
    for seed in range(args.repeats):
        for n in args.workers:
            r = run(args.algo, args.env, n, args.score, args.episodes, args.cap, seed, args.extra)
            runs[n].append(r)
            when = (f"{r['reached']['wall_seconds']:.0f} s, {r['reached']['frames']:,} frames" if r["reached"]
                    else f"not within {args.cap:g} s")
            print(f"seed {seed}  {n:>2} learners: {r['steady_fps']:,.0f} frames/s; score {args.score:g} after {when}",
                  flush=True)

    def median_time(n: int) -> float | None:
        times = [r["reached"]["wall_seconds"] for r in runs[n] if r["reached"]]
        return statistics.median(times) if len(times) == len(runs[n]) else None

    base = median_time(args.workers[0])
    print(f"\n{args.algo} on {args.env}, score {args.score:g} (mean of {args.episodes}), median of {args.repeats}; "
          f"{machine()}\n")
    print("| learners | frames/s | seconds to score | frames to score | speed-up (time) | paper's speed-up |")
    print("|---|---|---|---|---|---|")
    for n in args.workers:
        fps = statistics.median(r["steady_fps"] for r in runs[n])
        t = median_time(n)
        frames = [r["reached"]["frames"] for r in runs[n] if r["reached"]]
        speedup = f"{base / t:.1f}" if t and base else "n/a"
        print(f"| {n} | {fps:,.0f} | {f'{t:.0f}' if t else 'not reached in every run'} "
              f"| {f'{statistics.median(frames):,.0f}' if frames else 'n/a'} | {speedup} "
              f"| {PAPER_SPEEDUP[args.algo].get(n, 'n/a')} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "algo": args.algo, "env": args.env,
                                         "score": args.score, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
