"""The run directory: resolved config, per-episode metrics, TensorBoard events, checkpoints, summary.

    config.json          the full resolved config (and which tool and version wrote it)
    metrics.csv          one row per finished episode: frames, wall_seconds, worker, return, length,
                         env (its index among the learner's environments), final_epsilon (Q methods)
    tb/                  TensorBoard events
    checkpoint.pt        latest checkpoint: parameters, optimiser statistics, frame counter
    checkpoint.prev.pt   the one before it, kept in case the latest is damaged
    summary.json         written when training ends
    events.log           one line per fault the run survived (a learner restarted), with its cause

A run directory is never overwritten: opening a non-empty one requires ``resume``.
"""

from __future__ import annotations

import csv
import json
import os
import warnings
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

from asyncrl import __version__
from asyncrl.config import ConfigError, TrainConfig, with_unsaved_fields

TOOL = "asyncrl"
CHECKPOINT_FORMAT = 1
CONFIG, METRICS, SUMMARY, EVENTS = "config.json", "metrics.csv", "summary.json", "events.log"
CHECKPOINT, PREVIOUS_CHECKPOINT = "checkpoint.pt", "checkpoint.prev.pt"
METRICS_FIELDS = ("frames", "wall_seconds", "worker", "return", "length", "env", "final_epsilon")


class RunDirError(ConfigError):
    """A run directory that cannot be used as asked."""


def _write_synced(path: Path, write) -> None:
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def _write_atomic(path: Path, write) -> None:
    """Write to a temporary file, flush it to disk, then rename: readers see old or new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    _write_synced(tmp, write)
    os.replace(tmp, path)


def _write_json(path: Path, data: Any) -> None:
    _write_atomic(path, lambda f: f.write((json.dumps(data, indent=2) + "\n").encode()))


def read_tool_json(path: Path, name: str, kind: str = "run") -> dict[str, Any]:
    """``path/name``, a JSON object asyncrl wrote (its ``tool`` field), or RunDirError saying why not."""
    try:
        data = json.loads((path / name).read_text())
    except FileNotFoundError:
        raise RunDirError(f"{path} is not an asyncrl {kind} directory (no {name})") from None
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path / name} cannot be read: {exc}") from None
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        raise RunDirError(f"{path} holds a {name} that asyncrl did not write")
    return data


def read_config(path: Path) -> TrainConfig:
    """The config saved in a run directory, or RunDirError if it is not an asyncrl run."""
    data = read_tool_json(path, CONFIG)
    return TrainConfig.from_dict(with_unsaved_fields({k: v for k, v in data.items() if k not in ("tool", "version")}))


class RunDirectory:
    """Files of one training run."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._metrics_file = None
        self._metrics = None
        self._tb = None

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def prepare(cls, path: str | os.PathLike, resume: bool) -> RunDirectory:
        """Check the directory can be used; create it for a new run. Raises RunDirError."""
        run = cls(path)
        p = run.path
        if p.exists() and not p.is_dir():
            raise RunDirError(f"run directory {p} exists and is not a directory")
        non_empty = p.is_dir() and any(p.iterdir())
        if resume:
            if not non_empty:
                raise RunDirError(f"nothing to resume: {p} does not exist or is empty")
            read_config(p)
            if not (p / CHECKPOINT).exists() and not (p / PREVIOUS_CHECKPOINT).exists():
                raise RunDirError(f"nothing to resume: {p} has no checkpoint")
        elif non_empty:
            raise RunDirError(
                f"run directory {p} is not empty; pass --resume to continue it, or choose another --run-dir"
            )
        try:
            p.mkdir(parents=True, exist_ok=True)
            probe = p / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise RunDirError(f"run directory {p} is not writable: {exc.strerror or exc}") from None
        return run

    def write_config(self, config: TrainConfig) -> None:
        _write_json(self.path / CONFIG, {"tool": TOOL, "version": __version__, **config.to_dict()})

    # -- metrics ------------------------------------------------------------------------------
    def open_logs(self) -> None:
        path = self.path / METRICS
        header: list[str] = []
        if path.exists():
            with open(path, newline="") as f:
                header = next(csv.reader(f), [])
        # Resumed: go on with the file's own columns (a run begun by an older version has fewer).
        fields = tuple(header) or METRICS_FIELDS
        self._metrics_file = open(path, "a", newline="")  # noqa: SIM115 (open for the run)
        self._metrics = csv.DictWriter(self._metrics_file, fields, extrasaction="ignore")
        if not header:
            self._metrics.writeheader()
        from torch.utils.tensorboard import SummaryWriter  # slow import, main process only

        self._tb = SummaryWriter(str(self.path / "tb"))

    def log_episode(self, frames: int, wall_seconds: float, worker: int, ret: float, length: int,
                    env: int | None = None, final_epsilon: float | None = None) -> None:
        self._metrics.writerow({"frames": frames, "wall_seconds": f"{wall_seconds:.2f}", "worker": worker,
                                "return": f"{ret:g}", "length": length, "env": "" if env is None else env,
                                "final_epsilon": "" if final_epsilon is None else f"{final_epsilon:g}"})
        self._metrics_file.flush()
        self._tb.add_scalar("charts/episodic_return", ret, frames)
        self._tb.add_scalar("charts/episodic_length", length, frames)

    def log_event(self, text: str) -> None:
        """A line in events.log: what happened to the run (learner restarts, faults), with the time."""
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        with open(self.path / EVENTS, "a") as f:
            f.write(f"{stamp} {text}\n")

    def log_scalars(self, frames: int, scalars: dict[str, float]) -> None:
        for name, value in scalars.items():
            self._tb.add_scalar(name, value, frames)

    def log_text(self, tag: str, text: str, frames: int) -> None:
        self._tb.add_text(tag, text, frames)

    def recent_returns(self, n: int = 100) -> deque[float]:
        """The last ``n`` episode returns already in metrics.csv (for a resumed run's running mean)."""
        out: deque[float] = deque(maxlen=n)
        if (self.path / METRICS).exists():
            with open(self.path / METRICS, newline="") as f:
                for row in csv.DictReader(f):
                    try:
                        out.append(float(row["return"]))
                    except (KeyError, TypeError, ValueError):
                        continue  # a row cut short by a crash
        return out

    def close(self) -> None:
        if self._metrics_file:
            self._metrics_file.close()
        if self._tb:
            self._tb.close()

    # -- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        """Write atomically; the previous checkpoint is kept as checkpoint.prev.pt."""
        import torch  # here, not at the top: reading a run's metrics needs no PyTorch

        state = {"format": CHECKPOINT_FORMAT, "version": __version__, **state}
        latest, previous = self.path / CHECKPOINT, self.path / PREVIOUS_CHECKPOINT
        tmp = latest.with_name(latest.name + ".tmp")
        _write_synced(tmp, lambda f: torch.save(state, f))
        if latest.exists():
            os.replace(latest, previous)
        os.replace(tmp, latest)

    def load_checkpoint(self) -> dict[str, Any]:
        """The latest readable checkpoint; falls back to the previous one with a warning."""
        import torch

        errors = []
        for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
            path = self.path / name
            if not path.exists():
                continue
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:  # noqa: BLE001 (a truncated or corrupt file raises several kinds)
                errors.append(f"{name}: {exc}")
                warnings.warn(f"checkpoint {path} is unreadable ({exc}); trying the previous one", stacklevel=2)
                continue
            if state.get("format") != CHECKPOINT_FORMAT:
                raise RunDirError(
                    f"checkpoint {path} has format {state.get('format')!r} (written by asyncrl "
                    f"{state.get('version', '?')}); this asyncrl {__version__} reads format {CHECKPOINT_FORMAT}"
                )
            return state
        raise RunDirError(f"no readable checkpoint in {self.path}" + (f": {'; '.join(errors)}" if errors else ""))

    def write_summary(self, summary: dict[str, Any]) -> None:
        _write_json(self.path / SUMMARY, summary)
