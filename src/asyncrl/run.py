"""The run directory: resolved config, per-episode metrics, TensorBoard events, checkpoints, summary.

    config.json          the full resolved config (and which tool and version wrote it)
    metrics.csv          one row per finished episode: frames, wall_seconds, worker, return, length,
                         env (its index among the learner's environments), final_epsilon (Q methods)
    tb/                  TensorBoard events
    checkpoint.pt        latest checkpoint: parameters, optimiser statistics, frame counter
    checkpoint.prev.pt   the one before it, kept in case the latest is damaged
    summary.json         written when training ends
    events.log           one line per fault the run survived (a learner restarted), with its cause
    trainer.lock         locked (flock) by the trainer while it runs, with its PID: one trainer per
                         directory; the operating system releases it when the trainer dies

A run directory is never overwritten: opening a non-empty one requires ``resume``. Every file but
metrics.csv and events.log is written whole or not at all (a temporary file, renamed), and no
temporary file outlives the trainer, but after SIGKILL, when the next trainer removes it.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import fcntl
import json
import math
import os
import threading
import warnings
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from asyncrl import __version__
from asyncrl.config import (
    ConfigError,
    TrainConfig,
    as_typed,
    field_types,
    sourced,
    validate,
    with_unsaved_fields,
)
from asyncrl.errors import WriteError

TOOL = "asyncrl"
CHECKPOINT_FORMAT = 1
CONFIG, METRICS, SUMMARY, EVENTS = "config.json", "metrics.csv", "summary.json", "events.log"
CHECKPOINT, PREVIOUS_CHECKPOINT = "checkpoint.pt", "checkpoint.prev.pt"
LOCK = "trainer.lock"
TMP_SUFFIX = ".tmp"
METRICS_FIELDS = ("frames", "wall_seconds", "worker", "return", "length", "env", "final_epsilon")
EPISODE_FIELDS = ("frames", "wall_seconds", "return")  # the columns of metrics.csv a curve needs


class RunDirError(ConfigError):
    """A run directory that cannot be used as asked."""


def write_failure(path: Path, exc: OSError) -> WriteError:
    """One line naming the file and the cause (a full disk, a read-only file system, ...)."""
    return WriteError(f"cannot write {path}: {exc.strerror or exc}")


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An OSError inside the block is a WriteError naming ``path``."""
    try:
        yield
    except OSError as exc:
        raise write_failure(path, exc) from None


def _write_synced(path: Path, write) -> None:
    """Write ``path`` and flush it to disk; on any failure (a full disk, Ctrl-C) remove it again."""
    try:
        with open(path, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        if isinstance(exc, OSError):
            raise write_failure(path, exc) from None
        raise


def _write_atomic(path: Path, write) -> None:
    """Write to a temporary file, flush it to disk, then rename: readers see old or new, never half."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    _write_synced(tmp, write)
    _replace(tmp, path)


def _replace(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            source.unlink()
        raise write_failure(target, exc) from None


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
    source = str(path / CONFIG)
    config = TrainConfig.from_dict(with_unsaved_fields({k: v for k, v in data.items() if k not in ("tool", "version")}),
                                   source=source)
    try:  # a config.json edited by hand: say which value, in which file
        validate(config)
    except ConfigError as exc:
        if exc.key is not None:
            raise sourced(exc, dict.fromkeys(field_types(), source)) from None
        # A rule across settings (no --env, say): training checks it again, with the flags given.
    except (TypeError, AttributeError):  # a setting that only resolve() fills is missing: resume fills it
        pass
    return config


def load_parameters(module, state_dict: dict[str, Any], config: TrainConfig, checkpoint: Path) -> None:
    """``module.load_state_dict(state_dict)``, or RunDirError saying which setting of config.json the
    checkpoint does not fit ("the checkpoint has --hidden 200; config.json says 64") instead of
    PyTorch's list of mismatched tensors."""
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as exc:
        raise RunDirError(_mismatch(config, checkpoint, exc)) from None


def _mismatch(config: TrainConfig, checkpoint: Path, exc: Exception) -> str:
    import torch

    from asyncrl.config import GROUPS, RESUMABLE, flag_for

    where = checkpoint.parent / CONFIG
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True).get("config")
        theirs = TrainConfig.from_dict(with_unsaved_fields(saved), source=str(checkpoint))
    except Exception:  # noqa: BLE001 (no config in it, or one this version cannot read: say what torch said)
        theirs = None
    if theirs is not None:
        differ = []
        for group in GROUPS:
            for name, ours in dataclasses.asdict(getattr(config, group)).items():
                value = getattr(getattr(theirs, group), name)
                if (group, name) not in RESUMABLE and value is not None and value != ours:
                    differ.append(f"the checkpoint has {flag_for(group, name)} {as_typed(value)}; {CONFIG} says "
                                  f"{as_typed(ours)}")
        if differ:
            return f"{where} does not match {checkpoint.name}: " + "; ".join(differ)
    first = str(exc).strip().splitlines()
    detail = first[1].strip() if len(first) > 1 else (first[0] if first else type(exc).__name__)
    return f"{checkpoint.name} does not fit the network {where} describes ({detail})"


def _in_use(what: str, tool: str, holder: bytes) -> RunDirError:
    pid = holder.decode(errors="replace").strip().split("\n")[0]
    who = f"{tool} (PID {pid})" if pid.isdigit() else f"another {tool}"
    return RunDirError(f"{what} is in use: {who} is working in it; wait for it to end or stop it (Ctrl-C, "
                       "kill), then --resume")


def check_unlocked(lock: Path, what: str, tool: str) -> None:
    """RunDirError naming the process that holds ``lock``, if one does (without taking it)."""
    try:
        with open(lock, "rb") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _in_use(what, tool, f.read()) from None
    except OSError:  # absent or unreadable: hold_lock() will tell
        pass


def hold_lock(lock: Path, what: str, tool: str):
    """Lock ``lock`` (flock) for this process's life and write its PID in it; RunDirError naming the
    PID that holds it already. The operating system releases it however the process ends, so a
    killed process never blocks the next one. Returns the open file: the lock lasts while it is open."""
    f = open(lock, "a+b")  # noqa: SIM115 (held for the process's work)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read()
        f.close()
        raise _in_use(what, tool, holder) from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n".encode())
    f.flush()
    return f


def _unreadable(exc: Exception) -> str:
    """Why torch.load could not read a checkpoint, in a few words: its own messages for a file cut
    short or overwritten run to paragraphs, or are a bare number (a KeyError) or errno."""
    text = str(exc).strip()
    if isinstance(exc, RuntimeError) and text.startswith("PytorchStreamReader"):
        return f"not a whole PyTorch checkpoint ({text.splitlines()[0][:100]})"
    return "not a whole PyTorch checkpoint"


def read_episodes(metrics: Path) -> list[tuple[float, float, float]]:
    """(frames, wall_seconds, return) of each whole row of ``metrics``; none if it does not exist.

    A crash can cut the last row short, and a run resumed after it appends its first row to that
    stub: a row with more or fewer fields than the header, or with a value that is not a finite
    number, is skipped. RunDirError if the file is not a metrics.csv that asyncrl wrote.
    """
    try:
        with open(metrics, newline="", encoding="utf-8") as f:
            return _whole_rows(metrics, f)
    except FileNotFoundError:
        return []
    except UnicodeDecodeError:
        raise RunDirError(f"{metrics} is not a CSV file asyncrl wrote (not UTF-8 text)") from None
    except OSError as exc:
        raise RunDirError(f"{metrics} cannot be read: {exc.strerror or exc}") from None


def _whole_rows(metrics: Path, f) -> list[tuple[float, float, float]]:
    reader = csv.reader(f)
    header = _next_row(reader)
    if header is None:
        return []  # empty: the run stopped before its first episode
    missing = [name for name in EPISODE_FIELDS if name not in header]
    if missing:
        raise RunDirError(f"{metrics} is not a CSV file asyncrl wrote (no {', '.join(missing)} column)")
    columns = [header.index(name) for name in EPISODE_FIELDS]
    rows = []
    while (row := _next_row(reader)) is not None:
        if len(row) != len(header):
            continue
        try:
            values = tuple(float(row[i]) for i in columns)
        except ValueError:
            continue
        if all(math.isfinite(v) for v in values):
            rows.append(values)
    return rows


def _next_row(reader) -> list[str] | None:
    """The reader's next row, skipping rows the csv module cannot parse (a field of runaway garbage)."""
    while True:
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error:
            continue


class RunDirectory:
    """Files of one training run."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._metrics_file = None
        self._metrics = None
        self._tb = None
        self._lock_file = None
        self._lock_before: bytes | None = None  # trainer.lock's content before this trainer took it
        self.created = False  # prepare() made the directory, so a new run that fails to start removes it
        self.resumed = False  # prepare() opened it to resume: a failed start leaves it as it was
        self.checkpoint_note: str | None = None  # load_checkpoint(): why it used the previous checkpoint
        self.checkpoint_path: Path | None = None  # load_checkpoint(): the file it read

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def prepare(cls, path: str | os.PathLike, resume: bool) -> RunDirectory:
        """Check the directory can be used, create it for a new run and lock it for this trainer.
        Raises RunDirError, having changed nothing, if it cannot be used as asked."""
        run = cls(path)
        p = run.path
        try:
            exists, is_dir = p.exists(), p.is_dir()
            if exists and not is_dir:
                raise RunDirError(f"run directory {p} exists and is not a directory")
            if is_dir and (p / LOCK).exists():
                check_unlocked(p / LOCK, f"run directory {p}", "asyncrl train")
            own = {LOCK}  # what a trainer that failed to start may have left: as good as empty
            non_empty = is_dir and any(entry.name not in own for entry in p.iterdir())
        except OSError as exc:
            raise RunDirError(f"run directory {p} cannot be used: {exc.strerror or exc}") from None
        if resume:
            if not non_empty:
                raise RunDirError(f"nothing to resume: {p} does not exist or is empty")
            read_config(p)
            if not (p / CHECKPOINT).exists() and not (p / PREVIOUS_CHECKPOINT).exists():
                raise RunDirError(f"nothing to resume: {p} has no checkpoint")
            run.check_metrics()
        elif non_empty:
            raise RunDirError(
                f"run directory {p} is not empty; pass --resume to continue it, or choose another --run-dir"
            )
        try:
            run.created, run.resumed = not exists, resume
            p.mkdir(parents=True, exist_ok=True)
            run._lock()
            probe = p / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            run.abandon()
            raise RunDirError(f"run directory {p} is not writable: {exc.strerror or exc}") from None
        except RunDirError:
            run.abandon()
            raise
        run._remove_temporary_files()
        return run

    def _lock(self) -> None:
        lock = self.path / LOCK
        try:
            self._lock_before = lock.read_bytes()
        except FileNotFoundError:
            self._lock_before = None
        self._lock_file = hold_lock(lock, f"run directory {self.path}", "asyncrl train")

    def _remove_temporary_files(self) -> None:
        """A trainer killed while writing (SIGKILL, power loss) leaves its temporary file: ours, under
        the lock, so it goes."""
        for name in (CHECKPOINT, PREVIOUS_CHECKPOINT, CONFIG, SUMMARY):
            with contextlib.suppress(OSError):
                (self.path / (name + TMP_SUFFIX)).unlink()

    def abandon(self) -> None:
        """A new run that failed before it trained: remove what this trainer made, so that the same
        command can be tried again. A resumed run's directory is left as it was."""
        self.close()
        if self.resumed:  # put trainer.lock back as it was: a refused resume changes nothing
            if self._lock_file is not None:
                with contextlib.suppress(OSError):
                    if self._lock_before is None:
                        (self.path / LOCK).unlink()
                    else:
                        self._lock_file.seek(0)
                        self._lock_file.truncate()
                        self._lock_file.write(self._lock_before)
                        self._lock_file.flush()
            self._unlock()
            return
        import shutil

        for name in (CONFIG, METRICS, EVENTS, "tb", LOCK, ".write-test"):
            target = self.path / name
            with contextlib.suppress(OSError):
                shutil.rmtree(target) if target.is_dir() else target.unlink()
        self._unlock()
        if self.created:
            with contextlib.suppress(OSError):
                self.path.rmdir()  # only if nothing else is in it

    def _unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def write_config(self, config: TrainConfig) -> None:
        _write_json(self.path / CONFIG, {"tool": TOOL, "version": __version__, **config.to_dict()})

    # -- metrics ------------------------------------------------------------------------------
    def check_metrics(self) -> None:
        """RunDirError unless metrics.csv is absent or a CSV file asyncrl wrote (resume appends to it)."""
        try:
            read_episodes(self.path / METRICS)
        except RunDirError as exc:
            raise RunDirError(f"{exc}; move it aside to resume") from None

    def repair_metrics(self) -> str | None:
        """Drop a last row cut short by a crash (no line end), so that the next row does not join it;
        returns a line saying what was removed, or None if the file was whole."""
        path = self.path / METRICS
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 64 * 1024))
                tail = f.read()
        except FileNotFoundError:
            return None
        if not tail or tail.endswith(b"\n"):
            return None
        cut = tail.rfind(b"\n") + 1  # 0: the whole tail is one unfinished row (or the header)
        partial = tail[cut:]
        with _writing(path), open(path, "r+b") as f:
            if partial.endswith(b"\r"):  # the row was whole; only its line end was cut
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
                return None
            f.truncate(size - len(partial))
        return (f"{path}: removed its last row, cut short by a crash ({partial.decode(errors='replace')[:60]!r}); "
                "the rows before it are whole")

    def open_logs(self) -> None:
        path = self.path / METRICS
        header: list[str] = []
        if path.exists():
            with open(path, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f), [])
        # Resumed: go on with the file's own columns (a run begun by an older version has fewer).
        fields = tuple(header) or METRICS_FIELDS
        with _writing(path):
            self._metrics_file = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115 (open for the run)
            self._metrics = csv.DictWriter(self._metrics_file, fields, extrasaction="ignore")
            if not header:
                self._metrics.writeheader()
                self._metrics_file.flush()
        from torch.utils.tensorboard import SummaryWriter  # slow import, main process only

        with _writing(self.path / "tb"):
            self._tb = SummaryWriter(str(self.path / "tb"))
        self._excepthook, threading.excepthook = threading.excepthook, self._quiet_tensorboard_failure

    def _quiet_tensorboard_failure(self, args) -> None:
        """TensorBoard's writer thread keeps its write failure (a full disk) for the next call, where it
        becomes a WriteError, and re-raises it in the thread too: that one would print a traceback."""
        if not (isinstance(args.exc_value, OSError) and type(args.thread).__name__ == "_AsyncWriterThread"):
            self._excepthook(args)

    def log_episode(self, frames: int, wall_seconds: float, worker: int, ret: float, length: int,
                    env: int | None = None, final_epsilon: float | None = None) -> None:
        with _writing(self.path / METRICS):
            self._metrics.writerow({"frames": frames, "wall_seconds": f"{wall_seconds:.2f}", "worker": worker,
                                    "return": f"{ret:g}", "length": length, "env": "" if env is None else env,
                                    "final_epsilon": "" if final_epsilon is None else f"{final_epsilon:g}"})
            self._metrics_file.flush()
        self.log_scalars(frames, {"charts/episodic_return": ret, "charts/episodic_length": length})

    def log_event(self, text: str) -> None:
        """A line in events.log: what happened to the run (learner restarts, faults), with the time."""
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        with _writing(self.path / EVENTS), open(self.path / EVENTS, "a", encoding="utf-8") as f:
            f.write(f"{stamp} {text}\n")

    def log_scalars(self, frames: int, scalars: dict[str, float]) -> None:
        # TensorBoard writes from a thread of its own and raises its failures at the next call.
        with _writing(self.path / "tb"):
            for name, value in scalars.items():
                self._tb.add_scalar(name, value, frames)

    def log_text(self, tag: str, text: str, frames: int) -> None:
        with _writing(self.path / "tb"):
            self._tb.add_text(tag, text, frames)

    def recent_returns(self, n: int = 100) -> deque[float]:
        """The last ``n`` episode returns already in metrics.csv (for a resumed run's running mean)."""
        return deque((ret for _, _, ret in read_episodes(self.path / METRICS)), maxlen=n)

    def close(self) -> None:
        """Close the logs; what they could not write (a full disk) is lost with them, not the run."""
        if self._metrics_file:
            with contextlib.suppress(OSError):
                self._metrics_file.close()
            self._metrics_file = None
        if self._tb:
            with contextlib.suppress(OSError):
                self._tb.close()
            self._tb = None
            threading.excepthook = self._excepthook

    def release(self) -> None:
        """Close the logs and give up the lock (the OS would at exit; a long-lived caller should not wait)."""
        self.close()
        self._unlock()

    # -- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        """Write atomically; the previous checkpoint is kept as checkpoint.prev.pt.

        checkpoint.pt never disappears, not even for an instant: the previous one is linked to its
        new name before the new one replaces it, so that ``evaluate`` beside a training run always
        finds one.
        """
        import torch  # here, not at the top: reading a run's metrics needs no PyTorch

        state = {"format": CHECKPOINT_FORMAT, "version": __version__, **state}
        latest, previous = self.path / CHECKPOINT, self.path / PREVIOUS_CHECKPOINT
        tmp = latest.with_name(latest.name + TMP_SUFFIX)
        _write_synced(tmp, lambda f: torch.save(state, f))
        if latest.exists():
            kept = previous.with_name(previous.name + TMP_SUFFIX)
            try:
                with contextlib.suppress(FileNotFoundError):
                    kept.unlink()
                os.link(latest, kept)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    with contextlib.suppress(OSError):
                        tmp.unlink()
                    raise write_failure(previous, exc) from None
                _replace(latest, previous)  # a file system without hard links: a moment without one
            else:
                _replace(kept, previous)
        _replace(tmp, latest)

    def load_checkpoint(self) -> dict[str, Any]:
        """The latest readable checkpoint; falls back to the previous one with a warning (and says so in
        ``checkpoint_note``)."""
        import torch

        errors = []
        for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
            path = self.path / name
            if not path.exists():
                continue
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:  # noqa: BLE001 (a truncated or corrupt file raises several kinds)
                reason = _unreadable(exc)
                errors.append(f"{name}: {reason}")
                warnings.warn(f"checkpoint {path} is unreadable ({reason}); trying the previous one", stacklevel=2)
                continue
            if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
                found = state.get("format") if isinstance(state, dict) else None
                version = state.get("version", "?") if isinstance(state, dict) else "?"
                raise RunDirError(
                    f"checkpoint {path} has format {found!r} (written by asyncrl "
                    f"{version}); this asyncrl {__version__} reads format {CHECKPOINT_FORMAT}"
                )
            if errors:
                self.checkpoint_note = f"{errors[0]}; used {name} instead"
            self.checkpoint_path = path
            return state
        raise RunDirError(f"no readable checkpoint in {self.path}" + (f": {'; '.join(errors)}" if errors else ""))

    def write_summary(self, summary: dict[str, Any]) -> None:
        _write_json(self.path / SUMMARY, summary)
