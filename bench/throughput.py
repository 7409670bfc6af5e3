"""Training throughput: frames/s on an Atari game for a fixed wall time, per method and worker count.

Each measurement is a real training run (`asyncrl train --max-seconds S`) in its own process with
the paper's settings; the figure is `steady_frames_per_second` from its summary.json: emulator
frames per second from the moment every learner has started until the time limit (process start-up
excluded). Repeats are interleaved across methods and worker counts, so a host whose speed drifts
affects every cell alike, and the median is reported.

    python bench/throughput.py --env ALE/Pong-v5 --workers 1 2 4 8 16 --seconds 60 --repeats 3
    python bench/throughput.py --algo a3c one-step-q one-step-sarsa n-step-q --workers 2 4 --repeats 3
    python bench/throughput.py --algo a3c "a3c --net lstm" --workers 2
    python bench/throughput.py --algo a3c "a3c --backend ray" --workers 2   # local against Ray
    python bench/throughput.py --algo a3c --workers 2 --checkouts before=/tmp/before after=.

Each ``--algo`` entry is a method, optionally followed by more `asyncrl train` flags for that entry.
``--checkouts LABEL=DIR`` measures each entry with the asyncrl of each checkout of the repository
(``DIR/src`` first on the path), interleaved: a speed change against the code before it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine


def measure(env: str, entry: str, workers: int | None, seconds: float, extra: list[str],
            checkout: Path | None = None) -> dict:
    algo, *flags = entry.split()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "asyncrl", "train", "--algo", algo, *flags, "--env", env,
               *([] if workers is None else ["--workers", str(workers)]),  # None: the default's
               "--max-seconds", str(seconds), "--run-dir", str(run_dir),
               "--quiet", *extra]
        environ = None if checkout is None else {
            **os.environ, "PYTHONPATH": os.pathsep.join([str(checkout / "src"), os.environ.get("PYTHONPATH", "")])}
        started = time.monotonic()
        subprocess.run(cmd, check=True, env=environ)
        total = time.monotonic() - started
        summary = json.loads((run_dir / "summary.json").read_text())
    result = {"workers": summary.get("workers", workers), "steady_fps": summary["steady_frames_per_second"],
              "overall_fps": summary["frames_per_second"], "frames": summary["frames"],
              "process_seconds": round(total, 1)}
    for key in ("bytes_to_server_per_learner_per_second", "bytes_from_server_per_learner_per_second",
                "updates_per_learner_per_second", "server_seconds_per_update"):
        if key in summary:  # the Ray backend's traffic to and from its parameter server, and its cost
            result[key] = summary[key]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--algo", nargs="+", default=["a3c"],
                        help='one or more methods, each optionally with train flags: "a3c --net lstm"')
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit of each training run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="write all measurements here as JSON")
    parser.add_argument("--checkouts", nargs="+", default=[], metavar="LABEL=DIR",
                        help="measure every entry with each checkout's asyncrl (DIR/src), interleaved")
    parser.add_argument("extra", nargs="*", help="more `asyncrl train` flags, after --")
    args = parser.parse_args()
    checkouts: dict[str, Path | None] = {"": None}
    if args.checkouts:
        try:
            checkouts = {label: Path(path).resolve() for label, path in (c.split("=", 1) for c in args.checkouts)}
        except ValueError:
            parser.error("--checkouts takes LABEL=DIR entries")
        missing = [str(p) for p in checkouts.values() if not (p / "src" / "asyncrl").is_dir()]
        if missing:
            parser.error(f"no asyncrl checkout (DIR/src/asyncrl) at: {', '.join(missing)}")

    # A cell is a method with its flags, the checkout it runs (if several are compared), and workers.
    cells = [(algo, label, workers) for algo in args.algo for label in checkouts for workers in args.workers]
    runs: dict[tuple[str, str, int], list[dict]] = {cell: [] for cell in cells}
    for repeat in range(args.repeats):
        for algo, label, workers in cells:
            result = measure(args.env, algo, workers, args.seconds, args.extra, checkouts[label])
            runs[algo, label, workers].append(result)
            name = f"{algo} ({label})" if label else algo
            traffic = ""
            if "bytes_to_server_per_learner_per_second" in result:
                traffic = (f", {result['bytes_to_server_per_learner_per_second'] / 1e6:,.1f} MB/s up and "
                           f"{result['bytes_from_server_per_learner_per_second'] / 1e6:,.1f} MB/s down per learner")
            if result["steady_fps"] is None:  # the time ran out before every learner had started
                print(f"repeat {repeat + 1}/{args.repeats}  {name:<16} workers {workers:>2}: not every learner "
                      f"started within {args.seconds:g} s; give it more --seconds", flush=True)
                continue
            print(f"repeat {repeat + 1}/{args.repeats}  {name:<16} workers {workers:>2}: "
                  f"{result['steady_fps']:,.0f} frames/s{traffic}", flush=True)

    print(f"\n{args.env}, {args.seconds:g} s runs, median of {args.repeats}; {machine()}\n")
    print("| method | workers | frames/s (median) | runs | MB/s per learner to / from the server (median) |")
    print("|---|---|---|---|---|")
    for (algo, label, workers), results in runs.items():
        algo = f"{algo} ({label})" if label else algo
        results = [r for r in results if r["steady_fps"] is not None]
        if not results:
            print(f"| {algo} | {workers} | n/a | learners still starting | |")
            continue
        fps = [r["steady_fps"] for r in results]
        traffic = "n/a (shared memory)"
        if "bytes_to_server_per_learner_per_second" in results[0]:
            up = statistics.median(r["bytes_to_server_per_learner_per_second"] for r in results) / 1e6
            down = statistics.median(r["bytes_from_server_per_learner_per_second"] for r in results) / 1e6
            traffic = f"{up:,.1f} / {down:,.1f}"
        print(f"| {algo} | {workers} | {statistics.median(fps):,.0f} | {', '.join(f'{x:,.0f}' for x in fps)} "
              f"| {traffic} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        records = [{"algo": algo, **({"checkout": label} if label else {}), **r}
                   for (algo, label, _), results in runs.items() for r in results]
        args.out.write_text(json.dumps({"machine": machine(), "env": args.env, "seconds": args.seconds,
                                        "runs": records}, indent=2))

if __name__ == "__main__":
    main()
