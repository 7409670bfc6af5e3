"""``train(config)``: validate, prepare the run directory, start a backend, record until the budget is spent.

This is the main process's side of a run and does not depend on the backend: the backend starts
the learners and exposes their events, the frame counter and a snapshot of the shared state.
"""

from __future__ import annotations

import copy
import sys
import time
import warnings
from collections import Counter, deque
from datetime import datetime
from pathlib import Path

import torch

from asyncrl.algos.q import FINAL_EPSILON_PROBS, FINAL_EPSILONS
from asyncrl.backends import HangWatch
from asyncrl.config import ConfigError, TrainConfig, conflicts, ineffective_settings, resolve
from asyncrl.envs import check_environment
from asyncrl.errors import SettingWarning, StoppedBeforeStart, TrainingError, WriteError
from asyncrl.learner import network_seed
from asyncrl.nets import build_network
from asyncrl.optim import SharedRMSprop
from asyncrl.progress import ProgressReporter
from asyncrl.run import RunDirectory, load_parameters, read_config
from asyncrl.signals import StopSignals

FPS_WINDOW_S = 10.0
SPS_LOG_INTERVAL_S = 5.0


def default_run_dir(config: TrainConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.algo.algo}-{config.env.env_id.replace('/', '-')}-{stamp}"


def make_backend(config: TrainConfig, net, target_net, optimizer, start_frames: int, obs_shape, actions,
                 head):
    if config.run.backend == "local":
        from asyncrl.backends.local import LocalBackend

        return LocalBackend(config, net, target_net, optimizer, start_frames)
    if config.run.backend == "ray" and config.run.ray_layout == "node-groups":
        from asyncrl.backends.ray_groups import GroupedRayBackend

        return GroupedRayBackend(config, net, target_net, optimizer, start_frames, obs_shape, actions, head)
    if config.run.backend == "ray":
        from asyncrl.backends.ray_cluster import RayBackend

        return RayBackend(config, net, target_net, optimizer, start_frames, obs_shape, actions, head)
    raise ConfigError(f"unknown backend {config.run.backend!r}")


def _connect_ray(config: TrainConfig) -> None:
    """Join (or start) the Ray cluster first: its CPU count, not this machine's, sets the default
    --workers, a learner per CPU as on the local backend (on Atari at most 16)."""
    from asyncrl.backends.ray_cluster import connect
    from asyncrl.config import default_workers

    threads = config.run.torch_threads
    cpus = connect(config.run.address, config.run.workers and config.run.workers * threads)
    if config.run.workers is None:
        config.run.workers = default_workers(config, max(1, cpus // threads))
    if config.run.workers * threads > cpus:
        per = "one CPU" if threads == 1 else f"{threads} CPUs (--torch-threads)"
        where = f"the Ray cluster at {config.run.address}" if config.run.address else "the local Ray instance"
        raise ConfigError(f"--workers {config.run.workers} needs {per} per learner; {where} has {cpus}")


def train(config: TrainConfig, *, resume: bool = False, progress: bool = True) -> Path:
    """Train with ``config`` and return the run directory.

    With ``resume=True`` the run directory's latest checkpoint (parameters, optimiser statistics,
    frame counter) is the starting point; only budget and scheduling settings may differ from the
    saved config. Raises :class:`~asyncrl.config.ConfigError` for anything a person must fix,
    :class:`~asyncrl.errors.WriteError` when the run's files cannot be written (a full disk) and
    :class:`~asyncrl.errors.StoppedBeforeStart` for a stop signal that came before the run directory
    was made. Settings that have no effect on the task are reported as a :class:`SettingWarning`.
    """
    with StopSignals() as signals:  # from here on a Ctrl-C is a clean stop, wherever it lands
        obs_shape, actions = check_environment(resolve(config))  # validated before anything starts
        for line in ineffective_settings(config, actions):
            warnings.warn(line, SettingWarning, stacklevel=2)
        if config.run.backend == "ray":
            config = copy.deepcopy(config)  # _connect_ray fills in --workers
        try:
            if config.run.backend == "ray":
                _connect_ray(config)
            return _train(config, obs_shape, actions, resume, progress, signals)
        finally:
            if config.run.backend == "ray":
                from asyncrl.backends.ray_cluster import disconnect

                disconnect()


def _train(config: TrainConfig, obs_shape, actions, resume: bool, progress: bool, signals: StopSignals) -> Path:
    config = resolve(config, actions)  # now with the defaults that depend on the action space
    if config.run.run_dir is None:
        config.run.run_dir = str(default_run_dir(config))
    if signals.received is not None:
        raise StoppedBeforeStart(f"stopped by {signals.name} before the run started; nothing was written")
    run = RunDirectory.prepare(config.run.run_dir, resume)
    try:
        net, target_net, optimizer, start = _starting_point(config, run, obs_shape, actions, resume)
        run.write_config(config)
        note = run.repair_metrics() if resume else None
        run.open_logs()
        if note:
            run.log_event(note)
            print(f"asyncrl train: {note}", file=sys.stderr, flush=True)
        from asyncrl.algos import REGISTRY

        backend = make_backend(config, net, target_net, optimizer, start["frames"], obs_shape, actions,
                               REGISTRY[config.algo.algo].head)
    except BaseException:
        run.abandon()  # a new run leaves nothing behind, so the same command can be tried again
        raise
    try:
        try:
            return _record(config, run, backend, start["frames"], start["episodes"], start["wall_seconds"],
                           progress, signals)
        finally:
            backend.close()
    finally:
        run.release()


def _starting_point(config: TrainConfig, run: RunDirectory, obs_shape, actions, resume: bool):
    """(theta, theta-, RMSProp, counters): a fresh network from --seed, or the run's checkpoint."""
    from asyncrl.algos import REGISTRY

    algo_cls = REGISTRY[config.algo.algo]
    # One --seed, one starting network (a run is reproducible only from a known start); its own
    # stream, apart from the learners', and the trainer's global one left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(network_seed(config.run.seed))
        net = build_network(obs_shape, actions, algo_cls.head, config.net)
    target_net = copy.deepcopy(net) if algo_cls.uses_target_network else None
    optimizer = SharedRMSprop(net.parameters(), config.optim.rms_alpha, config.optim.rms_eps,
                              init=config.optim.rms_init)
    start = {"frames": 0, "episodes": 0, "wall_seconds": 0.0}
    if not resume:
        return net, target_net, optimizer, start
    # Resolved, so that a run saved before a setting existed compares with its default.
    saved = resolve(read_config(run.path), actions)
    bad = conflicts(saved, config)
    if bad:
        raise ConfigError("cannot resume with settings that differ from the saved run: " + "; ".join(bad))
    state = run.load_checkpoint()
    load_parameters(net, state["model"], saved, run.checkpoint_path)
    optimizer.load_state_dict(state["optimizer"])
    if target_net is not None:
        load_parameters(target_net, state.get("target_model", state["model"]), saved, run.checkpoint_path)
    start = {k: state[k] for k in start}
    if start["frames"] >= config.run.frames:
        raise ConfigError(
            f"{run.path} has already trained {start['frames']:,} of its {config.run.frames:,} frames; "
            "pass a larger --frames to continue"
        )
    return net, target_net, optimizer, start


def _record(config, run, backend, start_frames, episodes, wall_before, show_progress, signals) -> Path:
    returns = run.recent_returns(100)
    # --stop-at-return counts only this session's episodes, so a resumed run that had reached it
    # trains on instead of stopping at once.
    session_returns: deque[float] = deque(maxlen=config.run.stop_episodes)
    total = config.run.frames
    started = time.monotonic()
    last_checkpoint = last_sps = started
    samples: deque[tuple[float, int]] = deque()  # (time, frames) over the last FPS_WINDOW_S
    fps = 0.0
    started_workers: set[int] = set()
    all_started: tuple[float, int] | None = None  # (time, frames) once every learner runs
    final_epsilons: dict[int, list[float]] = {}  # the Q methods' draws: learner -> one per environment
    nonfinite = 0
    restarts: list[str] = []
    status = "completed"
    failure = ""
    hangs = HangWatch(config.run.hang_seconds)

    def wall() -> float:
        return wall_before + time.monotonic() - started

    def handle(events) -> None:
        nonlocal episodes, nonfinite, failure, all_started
        for kind, worker, payload in events:
            if kind == "started":
                started_workers.add(worker)
                if "final_epsilons" in payload:  # a restarted learner draws anew: keep its latest
                    final_epsilons[worker] = payload["final_epsilons"]
                if len(started_workers) == config.run.workers:
                    all_started = (time.monotonic(), backend.frames())
                    if final_epsilons:  # once all have drawn (again after a restart)
                        line = _exploration_line(final_epsilons)
                        reporter.message(line)
                        run.log_text("exploration", line, backend.frames())
            elif kind == "episode":
                episodes += 1
                returns.append(payload["return"])
                session_returns.append(payload["return"])
                run.log_episode(backend.frames(), wall(), worker, payload["return"], payload["length"],
                                payload.get("env"), payload.get("final_epsilon"))
            elif kind == "stats":
                nonfinite += payload.pop("nonfinite_skipped", 0)
                lr = payload.pop("learning_rate")
                epsilon = payload.pop("epsilon", None)
                scalars = {f"losses/{k}": v for k, v in payload.items()}
                scalars["charts/learning_rate"] = lr
                if epsilon is not None:
                    scalars[f"charts/epsilon/learner_{worker}"] = epsilon
                run.log_scalars(backend.frames(), scalars)
            elif kind == "restarted":
                restarts.append(payload["cause"])
                hangs.started(worker, backend.progress().get(worker, 0), time.monotonic())
                note = f"learner {worker} died ({payload['cause']}); restarted it with a fresh environment"
                if payload["cause"].startswith("hung"):
                    note = f"learner {worker} {payload['cause']}; restarted it with a fresh environment"
                print(f"asyncrl train: {note}", file=sys.stderr, flush=True)
                run.log_event(note)
            elif kind == "error":
                failure = f"learner {worker} failed: {payload['message']}"
            elif kind == "backend_error":
                failure = payload["message"]

    def checkpoint() -> None:
        state = backend.snapshot()
        if state is None:  # the shared state is gone (a lost parameter server): keep the last checkpoint
            return
        run.save_checkpoint({**state, "episodes": episodes, "wall_seconds": wall(), "config": config.to_dict()})

    deadline = None if config.run.max_seconds is None else started + config.run.max_seconds
    reporter = ProgressReporter(total, config.run.log_interval, enabled=show_progress, deadline=deadline)
    stopped = stopped_frames = None
    with reporter:
        signals.on_stop(backend.hold_restarts)  # a learner the signal reaches too is not replaced
        try:
            if signals.received is None:
                backend.start()
                now = time.monotonic()
                for worker, count in backend.progress().items():
                    hangs.started(worker, count, now)
            while True:
                if signals.received is not None:
                    status = "interrupted"
                    break
                handle(backend.poll(0.25))
                now, frames = time.monotonic(), backend.frames()
                for worker, why in hangs.look(now, backend.progress()):
                    backend.kill_learner(worker, why)  # the next poll restarts it, as a dead one
                samples.append((now, frames))
                while now - samples[0][0] > FPS_WINDOW_S:
                    samples.popleft()
                dt = now - samples[0][0]
                fps = (frames - samples[0][1]) / dt if dt > 0 else 0.0
                mean = sum(returns) / len(returns) if returns else None
                reporter.update(frames, fps, episodes, mean, wall())
                if failure:
                    status = "failed"
                    break
                if signals.received is not None:  # before running(): the signal may have ended learners too
                    status = "interrupted"
                    break
                if frames >= total or not backend.running():
                    break
                if config.run.max_seconds is not None and now - started >= config.run.max_seconds:
                    status = "time_limit"
                    break
                if _return_reached(session_returns, config.run.stop_at_return):
                    status = "return_reached"
                    break
                if now - last_sps >= SPS_LOG_INTERVAL_S:
                    run.log_scalars(frames, {"charts/SPS": fps})
                    last_sps = now
                if now - last_checkpoint >= config.run.checkpoint_interval:
                    checkpoint()
                    last_checkpoint = now
        except WriteError as exc:  # a full disk: stop here, keeping the last checkpoint that was written
            status, failure = "failed", str(exc)
        finally:
            stopped, stopped_frames = time.monotonic(), backend.frames()
            pending = backend.shutdown()
        # What the learners reported while they stopped, and the final checkpoint: on a full disk
        # either may fail, and the run still ends with a summary and one line naming the file.
        try:
            handle(pending)
            if samples:  # the last window's speed, so that even a run shorter than the interval has one
                run.log_scalars(stopped_frames, {"charts/SPS": fps})
            checkpoint()
        except WriteError as exc:
            status, failure = "failed", failure or str(exc)
        frames = backend.frames()
        elapsed = stopped - started
        steady = None
        if all_started is not None and stopped - all_started[0] > 0:
            steady = (stopped_frames - all_started[1]) / (stopped - all_started[0])
        summary = {
            "status": status,
            "env": config.env.env_id,
            "algo": config.algo.algo,
            "workers": config.run.workers,
            "envs_per_worker": config.run.envs_per_worker,
            "frames": frames,
            "wall_seconds": round(wall(), 2),
            "frames_per_second": round((stopped_frames - start_frames) / elapsed, 1) if elapsed > 0 else 0.0,
            "steady_frames_per_second": round(steady, 1) if steady is not None else None,
            "episodes": episodes,
            "mean_return_last_100": (sum(returns) / len(returns)) if returns else None,
            "nonfinite_updates_skipped": nonfinite,
            "learner_restarts": len(restarts),
            "learner_restart_causes": restarts[-10:],
            "backend": config.run.backend,
            **backend.stats(),
        }
        if status == "interrupted":
            summary["stopped_by"] = signals.name
        if final_epsilons:
            summary["final_epsilons"] = [final_epsilons.get(w) for w in range(config.run.workers)]
        if failure:
            summary["error"] = failure
        try:
            run.write_summary(summary)
        except WriteError as exc:
            status, failure = "failed", failure or str(exc)
        mean = summary["mean_return_last_100"]
        reporter.update(frames, summary["frames_per_second"], episodes, mean, wall(), force=True)
    reporter.message(
        f"{status}: {frames:,} frames in {summary['wall_seconds']:.0f}s, {episodes:,} episodes, "
        f"mean return (last 100) {'n/a' if mean is None else f'{mean:.2f}'}; run directory {run.path}"
    )
    if status == "failed":
        raise TrainingError(failure)
    return run.path


def _exploration_line(final_epsilons: dict[int, list[float]]) -> str:
    """How many environments explore towards each final epsilon, beside the paper's odds."""
    draws = Counter(e for per_learner in final_epsilons.values() for e in per_learner)
    total = sum(draws.values())
    counts = ", ".join(f"{e:g} x{draws[e]}" for e in sorted(draws, reverse=True))
    paper = ", ".join(f"{e:g}: {p:g}" for e, p in zip(FINAL_EPSILONS, FINAL_EPSILON_PROBS, strict=True))
    return f"final epsilon per environment ({total} in all): {counts} (the paper's odds {paper})"


def _return_reached(returns: deque[float], threshold: float | None) -> bool:
    """--stop-at-return: a full window of recent episodes (not fewer) averages the threshold."""
    if threshold is None or len(returns) < returns.maxlen:
        return False
    return sum(returns) / len(returns) >= threshold

