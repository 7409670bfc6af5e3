"""Learning across nodes against one machine: the same runs on the local backend and on a Ray
cluster of several nodes on this machine (loopback), frames to a return and return per frame.

The cluster is real: ``ray start --head`` and ``ray start --address`` as separate processes with
``--cpus-per-node`` CPUs each, token authentication on, as docs/distributed.md starts one, so a
run's learners are split over the nodes and its node groups exchange through the parameter
service. Each entry is ``local`` or ``ray``, optionally followed by more `asyncrl train` flags;
runs are interleaved by seed (every entry's seed 0, then every entry's seed 1, ...), each in its
own process with ``--workers`` learners in all.

For each run: its status, frames, frames/s, and the mean return of its last ``--window`` episodes
(with ``--stop-at-return``: the frames at which that mean reached the return; without: that mean
at the frames every run reached, return per frame). Per entry, the median over seeds, and its
ratio to the first entry's.

    python bench/nodes.py --env CartPole-v1 --seeds 0 1 2 3 4 --stop-at-return 195 --frames 400k
    python bench/nodes.py --env ALE/Pong-v5 --entries local "ray --exchange-rate 10" --max-seconds 900 --seeds 0
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackCluster:
    """``nodes`` Ray nodes on this machine, each its own process group; ``close`` stops them all."""

    def __init__(self, nodes: int, cpus: int):
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        self.temp_dir = tempfile.mkdtemp(prefix="raynodes", dir="/tmp")  # short: Ray's socket paths
        common = ["--block", f"--num-cpus={cpus}", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
                  "--object-store-memory=200000000"]
        self.log = open(Path(self.temp_dir) / "nodes.log", "w")  # noqa: SIM115 (open while the cluster is)
        self.procs: list[subprocess.Popen] = []
        try:
            for i in range(nodes):
                head = ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={self.temp_dir}"]
                args = head if i == 0 else [f"--address={self.address}"]
                self.procs.append(subprocess.Popen([RAY, "start", *args, *common], stdout=self.log,
                                                   stderr=subprocess.STDOUT, start_new_session=True, env=self.env))
                self._wait_for(i + 1)
        except BaseException:
            self.close()
            raise

    def _active(self) -> int:
        out = subprocess.run([RAY, "status", "--address", self.address], capture_output=True, text=True,
                             timeout=60, check=False, env=self.env).stdout
        active = out.split("Active:", 1)[-1].split("Pending:", 1)[0] if "Active:" in out else ""
        return sum(1 for line in active.splitlines() if line.strip().startswith("1 node_"))

    def _wait_for(self, nodes: int) -> None:
        deadline = time.monotonic() + 90
        while self._active() < nodes:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"the Ray cluster did not reach {nodes} nodes: see {self.log.name}")
            time.sleep(1)

    def close(self) -> None:
        for proc in reversed(self.procs):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=10)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.log.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def reached_at(run_dir: Path, threshold: float, window: int) -> int | None:
    """The frames at which the mean return of the last ``window`` episodes first reached ``threshold``."""
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = [(int(r["frames"]), float(r["return"])) for r in csv.DictReader(f)]
    for i in range(window, len(rows) + 1):
        if sum(r for _, r in rows[i - window : i]) / window >= threshold:
            return rows[i - 1][0]
    return None


def last_mean(run_dir: Path, window: int, frames: int | None = None) -> float | None:
    """Mean return of the last ``window`` episodes that ended by ``frames`` (all, without it)."""
    with open(run_dir / "metrics.csv", newline="") as f:
        returns = [float(r["return"]) for r in csv.DictReader(f) if frames is None or int(r["frames"]) <= frames]
    return sum(returns[-window:]) / len(returns[-window:]) if returns else None


def run_one(entry: str, seed: int, args, cluster: LoopbackCluster, out_dir: Path) -> dict:
    backend, *flags = entry.split()
    run_dir = out_dir / f"{entry.replace(' ', '_').replace('-', '')}-seed{seed}"
    cmd = [sys.executable, "-m", "asyncrl", "train", "--env", args.env, "--workers", str(args.workers),
           "--seed", str(seed), "--run-dir", str(run_dir), "--quiet", *args.extra, *flags]
    if args.algo:
        cmd += ["--algo", args.algo]
    if args.frames:
        cmd += ["--frames", args.frames]
    if args.max_seconds:
        cmd += ["--max-seconds", str(args.max_seconds)]
    if args.stop_at_return is not None:
        cmd += ["--stop-at-return", str(args.stop_at_return), "--stop-episodes", str(args.window)]
    if backend == "ray":
        cmd += ["--backend", "ray", "--address", cluster.address]
    elif backend != "local":
        raise SystemExit(f"an entry starts with local or ray, got {entry!r}")
    started = time.monotonic()
    subprocess.run(cmd, check=True, env=cluster.env)
    summary = json.loads((run_dir / "summary.json").read_text())
    row = {"entry": entry, "seed": seed, "status": summary["status"], "frames": summary["frames"],
           "fps": summary["steady_frames_per_second"], "process_seconds": round(time.monotonic() - started, 1),
           "learner_nodes": summary.get("learner_nodes"), "last_mean": last_mean(run_dir, args.window),
           "run_dir": str(run_dir)}
    for key in ("exchanges_per_node_per_second", "exchange_seconds_p50", "exchange_seconds_p99",
                "service_cpu_seconds_per_exchange", "bytes_to_service_per_node_per_second"):
        if key in summary:
            row[key] = summary[key]
    if args.stop_at_return is not None:
        row["frames_to_return"] = reached_at(run_dir, args.stop_at_return, args.window)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--algo", default=None)
    parser.add_argument("--entries", nargs="+", default=["local", "ray"],
                        help='"local" or "ray", each optionally with train flags: "ray --exchange-rate 10"')
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="learners in all (ray: over the nodes)")
    parser.add_argument("--frames", default=None, help="budget of each run, e.g. 400k")
    parser.add_argument("--max-seconds", type=float, default=None)
    parser.add_argument("--stop-at-return", type=float, default=None)
    parser.add_argument("--window", type=int, default=20, help="episodes averaged for a return")
    parser.add_argument("--out", type=Path, default=Path("runs/nodes"), help="run directories go here")
    parser.add_argument("--json", type=Path, default=None, help="write every run's figures here")
    parser.add_argument("extra", nargs="*", help="more `asyncrl train` flags for every entry, after --")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty: its run directories would be overwritten")
    args.out.mkdir(parents=True, exist_ok=True)

    cluster = LoopbackCluster(args.nodes, args.cpus_per_node)
    rows = []
    try:
        for seed in args.seeds:
            for entry in args.entries:
                row = run_one(entry, seed, args, cluster, args.out)
                rows.append(row)
                reached = f", return reached at {row['frames_to_return']:,}" if row.get("frames_to_return") else ""
                print(f"seed {seed} {entry:<30} {row['status']:<15} {row['frames']:>10,} frames, "
                      f"{row['fps'] or 0:,.0f} frames/s{reached}", flush=True)
    finally:
        cluster.close()

    # Return per frame: every run's mean over its last episodes that ended by the frames all runs reached.
    common = min(r["frames"] for r in rows)
    for r in rows:
        r["common_frames"] = common
        r["mean_at_common_frames"] = last_mean(Path(r["run_dir"]), args.window, common)

    print(f"\n{args.env}, {args.workers} learners, {args.nodes} nodes x {args.cpus_per_node} CPU (ray), "
          f"seeds {args.seeds}; {machine()}\n")
    key = "frames_to_return" if args.stop_at_return is not None else "mean_at_common_frames"
    medians = {}
    print(f"| entry | runs | median {key} | each seed | median frames/s |")
    print("|---|---|---|---|---|")
    for entry in args.entries:
        mine = [r for r in rows if r["entry"] == entry]
        values = [r[key] for r in mine]
        known = [v for v in values if v is not None]
        medians[entry] = statistics.median(known) if len(known) == len(values) else None
        fps = statistics.median(r["fps"] for r in mine if r["fps"])
        shown = "not all reached" if medians[entry] is None else f"{medians[entry]:,.1f}"
        each = ", ".join("—" if v is None else f"{v:,.0f}" for v in values)
        print(f"| {entry} | {len(mine)} | {shown} | {each} | {fps:,.0f} |")
    first = medians[args.entries[0]]
    for entry in args.entries[1:]:
        if first is None or medians[entry] is None:
            continue
        if args.stop_at_return is not None:  # frames: a ratio
            print(f"{entry} / {args.entries[0]}: {medians[entry] / first:.2f} of the frames")
        else:  # returns may be negative: a difference
            print(f"{entry} - {args.entries[0]}: {medians[entry] - first:+.1f} at {common:,} frames")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"command": [Path(sys.executable).name, *sys.argv], "machine": machine(),
                                         "env": args.env, "nodes": args.nodes, "cpus_per_node": args.cpus_per_node,
                                         "workers": args.workers, "rows": rows, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()
