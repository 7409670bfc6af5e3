"""``asyncrl sweep``: the paper's learning-rate search.

The paper trained each method on each game 50 times with learning rates drawn from
LogUniform(1e-4, 1e-2) (and different random initialisations) and reported the mean of the best
5. A sweep does the same: it draws ``runs`` learning rates, trains one run per rate (its seed the
base seed plus its index), ``parallel`` at a time, each an ordinary ``asyncrl train`` in its own
run directory under the sweep directory, and scores each run by the mean return of its last 100
training episodes. It reports every run and the top-5 mean in a table (``sweep.csv``), a plot
(``sweep.png``: score against learning rate, and the learning curves) and ``sweep.json``.

With a ``grid`` instead, the sweep trains every combination of the given values of any settings
(``--grid rms-eps=0.1,1e-5 --grid t-max=5,20``), each with ``seeds`` seeds: the short proxy runs
that narrow a search before full runs confirm it. The table and plot then show each combination's
runs and their mean.

Each run is a separate ``asyncrl train`` process, so a failed run does not end the sweep, and an
interrupted sweep continues with ``resume`` (finished runs are kept, interrupted ones resumed from
their checkpoints).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentTypeError
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from asyncrl import __version__
from asyncrl.config import MAX_SEED, ConfigError, TrainConfig, flag_for, parse_count, resolve
from asyncrl.run import CHECKPOINT, SUMMARY, TOOL, RunDirError, hold_lock, read_tool_json

SWEEP, TABLE, PLOT = "sweep.json", "sweep.csv", "sweep.png"
SWEEP_LOCK = "sweep.lock"  # held (flock) by the sweep while it runs
LR_RANGE = (1e-4, 1e-2)  # the paper's LogUniform range
TOP = 5  # the paper reports the mean of the best 5 of 50
FINISHED = ("completed", "return_reached", "time_limit")
POLL_S = 0.5


@dataclass
class SweepRun:
    name: str
    lr: float | None  # None: the config's default learning rate (a grid that does not vary it)
    seed: int
    status: str = "pending"
    score: float | None = None  # mean return of the last 100 training episodes
    frames: int | None = None
    wall_seconds: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # a grid's values for this run, by flag

    def label(self) -> str:
        """The values that set this run apart: its grid combination, or its learning rate."""
        if self.settings:
            return " ".join(f"{flag}={value:g}" if isinstance(value, float) else f"{flag}={value}"
                            for flag, value in self.settings.items())
        return f"lr {self.lr:.2e}"


# Settings a grid may not vary: the sweep decides them itself (or they are not one value).
_NOT_IN_GRID = {("run", "run_dir"), ("run", "seed"), ("env", "env_id"), ("net", "hidden")}


def _grid_fields() -> dict[str, tuple[str, str, Any]]:
    """flag name (without --) -> (group, field, type) for every setting a grid can vary."""
    from asyncrl.config import field_types  # the config's field types, as config files read them

    return {flag_for(*key)[2:]: (*key, kind) for key, kind in field_types().items() if key not in _NOT_IN_GRID}


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """``["rms-eps=0.1,1e-5", "t-max=5,20"]`` -> ``{"rms-eps": [0.1, 1e-05], "t-max": [5, 20]}``."""
    fields = _grid_fields()
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip().removeprefix("--")
        if not sep or not text.strip():
            raise ConfigError(f"--grid takes FLAG=V1,V2,... (e.g. rms-eps=0.1,1e-5), got {item!r}")
        if name not in fields:
            raise ConfigError(f"--grid cannot vary {name!r}: give a train flag such as lr, rms-eps, t-max, "
                              "entropy-beta, envs-per-worker (not run-dir, seed, env or hidden)")
        if name in grid:
            raise ConfigError(f"--grid names {name} twice: give its values in one --grid {name}=V1,V2")
        kind = fields[name][2]
        values = []
        for text_value in text.split(","):
            v = text_value.strip()
            try:
                if kind is bool:
                    if v.lower() not in ("true", "false", "yes", "no", "1", "0"):
                        raise ValueError
                    values.append(v.lower() in ("true", "yes", "1"))
                elif kind is int:
                    values.append(parse_count(v))
                elif kind is float:
                    number = float(v)
                    if not math.isfinite(number):
                        raise ValueError
                    values.append(number)
                else:
                    values.append(v)
            except (ValueError, ArgumentTypeError) as exc:
                expected = {bool: "true or false", int: "an integer", float: "a number"}.get(kind, "a value")
                raise ConfigError(f"--grid {name}: {v!r} is not {expected}") from exc
        if len(set(values)) != len(values):
            raise ConfigError(f"--grid {name} repeats a value: {text}")
        grid[name] = values
    return grid


def grid_combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def apply_settings(data: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A config dict (``TrainConfig.to_dict()``) with a grid combination's values set."""
    fields = _grid_fields()
    out = {group: dict(values) for group, values in data.items()}
    for flag, value in settings.items():
        group, name, _ = fields[flag]
        out[group][name] = value
    return out


def sample_learning_rates(runs: int, seed: int, low: float = LR_RANGE[0], high: float = LR_RANGE[1]) -> list[float]:
    """``runs`` draws from LogUniform(low, high): uniform in log(lr)."""
    rng = np.random.default_rng(seed)
    return [float(x) for x in np.exp(rng.uniform(math.log(low), math.log(high), runs))]


def top_runs(runs: list[SweepRun], top: int = TOP) -> list[SweepRun]:
    scored = [r for r in runs if r.score is not None]
    return sorted(scored, key=lambda r: r.score, reverse=True)[:top]


def _default_dir(config: TrainConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"sweep-{config.algo.algo}-{config.env.env_id.replace('/', '-')}-{stamp}"


class Sweep:
    """A sweep directory: ``sweep.json`` (the plan and the results so far), one run directory per
    learning rate, ``configs/`` (each run's config file) and ``logs/`` (each run's output)."""

    def __init__(self, path: Path, base: dict[str, Any], runs: list[SweepRun], lr_range: tuple[float, float] | None,
                 top: int, grid: dict[str, list[Any]] | None = None):
        self.path, self.base, self.runs, self.lr_range, self.top = path, base, runs, lr_range, top
        self.grid = grid

    @classmethod
    def create(cls, config: TrainConfig, runs: int, sweep_dir: str | os.PathLike | None,
               lr_range: tuple[float, float], top: int, grid: dict[str, list[Any]] | None = None) -> Sweep:
        """Plan the runs: ``runs`` learning rates from ``lr_range``, or with a ``grid`` every
        combination of its values, each with ``runs`` seeds."""
        path = Path(sweep_dir) if sweep_dir is not None else _default_dir(config)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise RunDirError(f"sweep directory {path} is not empty; pass --resume to continue it, "
                              "or choose another --sweep-dir")
        if grid:
            seeds = [config.run.seed + i for i in range(runs)]
            base_lr = config.optim.lr
            plan = [(combo.get("lr", base_lr), seed, combo) for combo in grid_combinations(grid) for seed in seeds]
            planned = [SweepRun(f"run-{i:02d}", lr, seed, settings=combo) for i, (lr, seed, combo) in enumerate(plan)]
        else:
            seeds = [config.run.seed + i for i in range(runs)]
            rates = sample_learning_rates(runs, config.run.seed, *lr_range)
            planned = [SweepRun(f"run-{i:02d}", lr, s) for i, (lr, s) in enumerate(zip(rates, seeds, strict=True))]
        try:
            (path / "configs").mkdir(parents=True, exist_ok=True)
            (path / "logs").mkdir(exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"cannot create sweep directory {path}: {exc.strerror or exc}") from None
        sweep = cls(path, config.to_dict(), planned, None if grid else lr_range, top, grid)
        for run in planned:
            data = apply_settings(sweep.base, run.settings) if grid else \
                sweep.base | {"optim": sweep.base["optim"] | {"lr": run.lr}}
            data["run"] = data["run"] | {"seed": run.seed, "run_dir": str(path / run.name)}
            (path / "configs" / f"{run.name}.json").write_text(json.dumps(data, indent=2) + "\n")
        sweep.save()
        return sweep

    @classmethod
    def open(cls, sweep_dir: str | os.PathLike) -> Sweep:
        path = Path(sweep_dir)
        data = read_tool_json(path, SWEEP, "sweep")
        if "runs" not in data:
            raise RunDirError(f"{path} holds a {SWEEP} that asyncrl sweep did not write")
        runs = [SweepRun(**r) for r in data["runs"]]
        lr_range = tuple(data["lr_range"]) if data.get("lr_range") else None
        return cls(path, data["config"], runs, lr_range, data["top"], data.get("grid"))

    def groups(self) -> dict[str, list[SweepRun]]:
        """A grid's runs by combination (its seeds together); one run per group otherwise."""
        out: dict[str, list[SweepRun]] = {}
        for run in self.runs:
            out.setdefault(run.label() if self.grid else run.name, []).append(run)
        return out

    def summary(self) -> dict[str, Any]:
        best = top_runs(self.runs, self.top)
        out = {
            "tool": TOOL,
            "version": __version__,
            "sweep_dir": str(self.path),
            "algo": self.base["algo"]["algo"],
            "env": self.base["env"]["env_id"],
            "lr_range": list(self.lr_range) if self.lr_range else None,
            "grid": self.grid,
            "top": self.top,
            "top_mean": float(np.mean([r.score for r in best])) if best else None,
            "top_runs": [r.name for r in best],
            "runs": [asdict(r) for r in self.runs],
            "config": self.base,
        }
        if self.grid:  # each combination's mean over its seeds, best first
            combos = []
            for label, runs in self.groups().items():
                scores = [r.score for r in runs if r.score is not None]
                combos.append({"settings": runs[0].settings, "label": label, "runs": [r.name for r in runs],
                               "scores": scores, "mean": float(np.mean(scores)) if scores else None})
            out["combinations"] = sorted(combos, key=lambda c: (c["mean"] is None, -(c["mean"] or 0.0)))
        return out

    def save(self) -> None:
        tmp = self.path / (SWEEP + ".tmp")
        tmp.write_text(json.dumps(self.summary(), indent=2) + "\n")
        os.replace(tmp, self.path / SWEEP)

    def command(self, run: SweepRun) -> list[str]:
        run_dir = self.path / run.name
        if (run_dir / CHECKPOINT).exists():  # interrupted or failed earlier: continue from its checkpoint
            return [sys.executable, "-m", "asyncrl", "train", "--run-dir", str(run_dir), "--resume", "--quiet"]
        return [sys.executable, "-m", "asyncrl", "train", "--config",
                str(self.path / "configs" / f"{run.name}.json"), "--quiet"]

    def record(self, run: SweepRun, returncode: int) -> None:
        try:
            summary = json.loads((self.path / run.name / SUMMARY).read_text())
        except (OSError, ValueError):
            summary = {}
        run.status = summary.get("status") or ("failed" if returncode else "unknown")
        if returncode not in (0, None) and run.status in FINISHED:
            run.status = "failed"
        run.score = summary.get("mean_return_last_100") if run.status in FINISHED else None
        run.frames = summary.get("frames")
        run.wall_seconds = summary.get("wall_seconds")

    def write_table(self) -> None:
        flags = list(self.grid or {})
        with open(self.path / TABLE, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(("rank", "run", *flags, "lr", "seed", "status", "score", "frames", "wall_seconds"))
            for rank, run in enumerate(ranked(self.runs), 1):
                w.writerow((rank if run.score is not None else "", run.name, *(run.settings[k] for k in flags),
                            "" if run.lr is None else f"{run.lr:.6g}", run.seed, run.status,
                            "" if run.score is None else f"{run.score:.6g}", run.frames or "",
                            run.wall_seconds or ""))


def ranked(runs: list[SweepRun]) -> list[SweepRun]:
    """Scored runs best first, then the others in their order."""
    return top_runs(runs, len(runs)) + [r for r in runs if r.score is None]


def sweep(config: TrainConfig | None, runs: int = 50, *, sweep_dir: str | os.PathLike | None = None,
          lr_range: tuple[float, float] = LR_RANGE, parallel: int | None = None, top: int = TOP,
          resume: bool = False, grid: dict[str, list[Any]] | None = None,
          report: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Train ``runs`` runs of ``config`` with learning rates from LogUniform(*lr_range); return
    the summary (``sweep.json``'s content). ``config``'s own lr and run directory are replaced.

    With a ``grid`` (``parse_grid``'s result) it trains every combination of the grid's values
    instead, ``runs`` seeds each, and keeps ``config``'s lr unless the grid varies it.

    ``parallel`` runs train at once (default: as many as the CPU count gives each run one core per
    learner, at least 1). With ``resume=True`` (``config`` may be None), continue the sweep in
    ``sweep_dir``.
    """
    say = report or (lambda _: None)
    if resume:
        if sweep_dir is None:
            raise ConfigError("resuming a sweep needs its directory (--sweep-dir)")
        state = Sweep.open(sweep_dir)
        parallel = _parallel(TrainConfig.from_dict(state.base), parallel)
    else:
        if config is None:
            raise ConfigError("a new sweep needs a config")
        if runs < 1:
            raise ConfigError(f"--runs must be a positive integer, got {runs}")
        low, high = lr_range
        if not (0 < low < high and math.isfinite(high)):
            raise ConfigError(f"the learning-rate range must satisfy 0 < low < high, got {low:g}, {high:g}")
        if top < 1:
            raise ConfigError(f"--top must be a positive integer, got {top}")
        if config.run.seed + runs - 1 > MAX_SEED:
            raise ConfigError(f"--seed {config.run.seed} leaves no room for {runs} runs' seeds (run i takes "
                              f"--seed + i, at most {MAX_SEED})")
        from asyncrl.envs import check_environment

        # A bad setting fails here, once, not in every run: each grid combination is checked.
        for combo in grid_combinations(grid) if grid else [{}]:
            probe = TrainConfig.from_dict(apply_settings(config.to_dict(), combo))
            if not grid:
                probe.optim.lr = low
            check_environment(resolve(probe))
        parallel = _parallel(config, parallel)
        base = TrainConfig.from_dict(config.to_dict())
        base.run.run_dir = None
        state = Sweep.create(base, runs, sweep_dir, lr_range, top, grid)
    # One sweep per directory: two would train the same runs and overwrite each other's sweep.json.
    with hold_lock(state.path / SWEEP_LOCK, f"sweep directory {state.path}", "asyncrl sweep"):
        todo = [r for r in state.runs if r.status not in FINISHED]
        if state.grid:
            plan = " x ".join(f"{flag} in {{{', '.join(map(str, values))}}}" for flag, values in state.grid.items())
        else:
            plan = f"lr ~ LogUniform({state.lr_range[0]:g}, {state.lr_range[1]:g})"
        say(f"sweep {state.path}: {len(state.runs)} runs, {plan}, {len(todo)} to train, {parallel} at a time")
        _run_all(state, todo, parallel, say)
        state.save()
        state.write_table()
        try:
            from asyncrl.plot import plot_grid_sweep, plot_sweep

            if state.grid:
                plot_grid_sweep(state.path, state.groups(), state.path / PLOT)
            else:
                plot_sweep(state.path, state.runs, state.top, state.path / PLOT, state.lr_range)
        except RunDirError as exc:  # nothing to draw yet (no run finished an episode)
            say(f"no plot: {exc}")
        return state.summary()


def _parallel(config: TrainConfig, parallel: int | None) -> int:
    """Runs at once: as asked, or as many as give each run one core per learner."""
    shared_cluster = config.run.backend != "ray" or config.run.address is not None
    if parallel is None:
        workers = resolve(config).run.workers
        parallel = max(1, (os.cpu_count() or 1) // workers) if shared_cluster else 1
    if parallel < 1:
        raise ConfigError(f"--parallel must be a positive integer, got {parallel}")
    if parallel > 1 and not shared_cluster:
        # Each run would start a Ray instance of its own on this machine, and they would collide.
        raise ConfigError("runs on --backend ray in parallel need one cluster to share: start it "
                          "(ray start --head) and pass --address, or use --parallel 1")
    return parallel


def _run_all(state: Sweep, todo: list[SweepRun], parallel: int, say: Callable[[str], None]) -> None:
    active: dict[str, tuple[SweepRun, subprocess.Popen, Any, float]] = {}
    pending = list(todo)
    previous = signal.getsignal(signal.SIGTERM)
    in_main = _in_main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while pending or active:
            while pending and len(active) < parallel:
                run = pending.pop(0)
                log = open(state.path / "logs" / f"{run.name}.log", "a")  # noqa: SIM115 (closed when it ends)
                proc = subprocess.Popen(state.command(run), stdout=log, stderr=subprocess.STDOUT)
                run.status = "running"
                active[run.name] = (run, proc, log, time.monotonic())
                say(f"  {run.name}  {run.label()}  seed {run.seed}: started")
            time.sleep(POLL_S)
            for name, (run, proc, log, started) in list(active.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del active[name]
                state.record(run, proc.returncode)
                state.save()
                score = "n/a" if run.score is None else f"{run.score:.2f}"
                say(f"  {run.name}  {run.label()}  seed {run.seed}: {run.status}, score {score} "
                    f"({time.monotonic() - started:.0f} s)" + ("" if run.status in FINISHED else
                                                              f"; see {state.path / 'logs' / (name + '.log')}"))
    except KeyboardInterrupt:
        # Each run stops cleanly (final checkpoint) and is resumed by the next `--resume`. SIGTERM,
        # not SIGINT: a run that already got the terminal's Ctrl-C would take a second SIGINT as
        # "stop at once" and skip its final checkpoint.
        for _, proc, _, _ in active.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for run, proc, log, _ in active.values():
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            state.record(run, proc.returncode)
        for run in pending:
            run.status = "pending"
        state.save()
        say(f"interrupted; continue with: asyncrl sweep --sweep-dir {state.path} --resume")
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def format_table(summary: dict[str, Any]) -> str:
    """The runs best first, as aligned text, and the top-k mean under them."""
    runs = [SweepRun(**r) for r in summary["runs"]]
    if summary.get("grid"):
        return _format_grid(summary, runs)
    best = set(summary["top_runs"])
    lines = [f"{'rank':>4}  {'run':<7} {'lr':>9} {'seed':>5}  {'status':<14} {'score':>10} {'frames':>11}"]
    for rank, r in enumerate(ranked(runs), 1):
        mark = "*" if r.name in best else " "
        score = "" if r.score is None else f"{r.score:.2f}"
        lines.append(f"{(str(rank) if r.score is not None else ''):>4}{mark} {r.name:<7} {r.lr:>9.2e} {r.seed:>5}  "
                     f"{r.status:<14} {score:>10} {(r.frames or 0):>11,}")
    if summary["top_mean"] is not None:
        lines.append(f"top-{len(summary['top_runs'])} mean score (*): {summary['top_mean']:.2f}   "
                     f"(score: mean return of each run's last 100 training episodes)")
    return "\n".join(lines)


def _format_grid(summary: dict[str, Any], runs: list[SweepRun]) -> str:
    """A grid sweep: every run best first, then each combination's mean over its seeds."""
    width = max(len(r.label()) for r in runs)
    lines = [f"{'rank':>4}  {'run':<7} {'settings':<{width}} {'seed':>5}  {'status':<14} {'score':>10} {'frames':>11}"]
    for rank, r in enumerate(ranked(runs), 1):
        score = "" if r.score is None else f"{r.score:.2f}"
        lines.append(f"{(str(rank) if r.score is not None else ''):>4}  {r.name:<7} {r.label():<{width}} {r.seed:>5}  "
                     f"{r.status:<14} {score:>10} {(r.frames or 0):>11,}")
    lines.append("")
    lines.append("combinations, best first (score: mean return of each run's last 100 training episodes):")
    for combo in summary["combinations"]:
        mean = "n/a" if combo["mean"] is None else f"{combo['mean']:.2f}"
        each = ", ".join(f"{x:.2f}" for x in combo["scores"])
        lines.append(f"  {combo['label']:<{width}}  mean {mean:>8}  ({len(combo['scores'])} of {len(combo['runs'])} "
                     f"runs scored{': ' + each if each else ''})")
    return "\n".join(lines)
