"""Learning speed: A3C FF on ALE/Pong-v5 until the mean of the last 10 games reaches +18, or a time cap.

One real training run (`asyncrl train --preset atari-a3c-ff`, the paper's settings) that stops
itself at the score (`--stop-at-return 18 --stop-episodes 10`) or at the cap (`--max-seconds`).
It then reads the run's metrics.csv and reports the frames and wall-clock time at which the
10-game mean first reached the target, draws the learning curve (`asyncrl plot`) and writes
both into the run directory (pong.json, pong.png).

    python bench/pong.py --minutes 60 --workers 2 --envs-per-worker 16 --run-dir runs/bench-pong

The learning rate anneals to 0 over `--frames`; set it near the frames the cap allows (about
frames/s x seconds) so that the schedule ends with the run. Time is counted from the start of
`asyncrl train` (start-up included), as a user would count it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import first_reaching, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="time cap")
    parser.add_argument("--target", type=float, default=18.0)
    parser.add_argument("--episodes", type=int, default=10, help="games in the running mean")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--envs-per-worker", type=int, default=16)
    parser.add_argument("--frames", default="12M", help="training budget: the learning rate anneals over it")
    parser.add_argument("--run-dir", type=Path, required=True, help="a new run directory")
    parser.add_argument("extra", nargs="*", help="more `asyncrl train` flags, after --")
    args = parser.parse_args()
    if args.run_dir.exists():
        parser.error(f"{args.run_dir} exists: give a new --run-dir")

    cmd = [sys.executable, "-m", "asyncrl", "train", "--preset", "atari-a3c-ff", "--env", "ALE/Pong-v5",
           "--workers", str(args.workers), "--envs-per-worker", str(args.envs_per_worker),
           "--frames", args.frames, "--max-seconds", str(args.minutes * 60),
           "--stop-at-return", str(args.target), "--stop-episodes", str(args.episodes),
           "--run-dir", str(args.run_dir), "--log-interval", "60", *args.extra]
    print(" ".join(cmd[1:]), flush=True)
    started = time.monotonic()
    subprocess.run(cmd, check=True)
    process_seconds = time.monotonic() - started

    summary = json.loads((args.run_dir / "summary.json").read_text())
    reached = first_reaching(args.run_dir / "metrics.csv", args.target, args.episodes)
    subprocess.run([sys.executable, "-m", "asyncrl", "plot", str(args.run_dir), "-o", str(args.run_dir / "pong.png"),
                    "--smooth", str(args.episodes), "--title",
                    f"A3C FF on Pong, {args.workers} learners x {args.envs_per_worker} environments"], check=True)
    result = {
        "machine": machine(),
        "command": " ".join(cmd[1:]),
        "target": args.target,
        "episodes_in_mean": args.episodes,
        "reached": reached,
        "frames": summary["frames"],
        "frames_per_second": summary["frames_per_second"],
        "train_seconds": summary.get("wall_seconds"),
        "process_seconds": round(process_seconds, 1),
        "status": summary["status"],
        "final_mean_return": summary.get("mean_return_last_100"),
        "curve": str(args.run_dir / "pong.png"),
    }
    (args.run_dir / "pong.json").write_text(json.dumps(result, indent=2))
    if reached:
        print(f"+{args.target:g} (mean of {args.episodes}) reached after {reached['frames']:,} frames and "
              f"{reached['wall_seconds'] / 60:.1f} minutes ({reached['episodes']} games)")
    else:
        print(f"+{args.target:g} not reached: the run ended ({summary['status']}) after {summary['frames']:,} "
              f"frames and {summary['wall_seconds'] / 60:.1f} minutes, last-100 mean "
              f"{summary['mean_return_last_100']}")
    print(f"curve: {result['curve']}; result: {args.run_dir / 'pong.json'}")


if __name__ == "__main__":
    main()
