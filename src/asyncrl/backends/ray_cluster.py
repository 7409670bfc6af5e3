"""The Ray backend: the same learners as Ray actors on a cluster, around a parameter server.

Who owns what:
  driver (trainer)   connects to the cluster, creates the parameter server and the learners,
                     drains their events, restarts learners that die, checkpoints the run.
  parameter server   theta, the shared RMSProp statistics, the target network theta- and the
                     global frame counter T (one actor, no CPU reserved). It is a threaded actor:
                     concurrent calls apply their gradients to theta at the same time, lock-free,
                     which is the paper's Hogwild semantics moved to one process.
  learner i          a Ray actor with one CPU: its own environment, network theta' and seed, running
                     the same ``run_learner`` loop as the local backend.

One round trip per segment: a learner's ``push`` sends its gradient (a flat float32 array), the
frames it added, its queued events, its observations (``--obs-norm``) and discounted returns
(``--reward-norm``), and gets back the fresh theta, T and the stop flag, which its next ``pull``
uses. A learner waits only for its own call, never for another learner. The target network
changes only every ``target_update`` frames, so it travels only when its version changes. The
parameter server copies theta into theta- itself, on the exact counter, since a learner's own view
of T lags by the frames the others added since its last call.

Ray is imported only here, so the local backend never needs it.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Sequence

import numpy as np
import torch

from asyncrl.backends import RestartBudget
from asyncrl.config import ConfigError, TrainConfig
from asyncrl.learner import learner_seed, run_learner
from asyncrl.nets import Network, build_network

try:
    import ray
except ImportError:  # reported by connect(), the first thing a Ray run calls
    ray = None

NAMESPACE = "asyncrl"


def require_ray() -> None:
    if ray is None:
        raise ConfigError("--backend ray needs Ray: pip install 'asyncrl[ray]'")


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            return True
    except (OSError, ValueError):
        return False


def connect(address: str | None, cpus_needed: int | None) -> int:
    """Join the cluster at ``address`` ('auto', host:port) or start a local Ray instance.

    Returns the cluster's CPU count. A local instance gets at least ``cpus_needed`` CPUs (one per
    learner thread) so that, as with the local backend, more learners than cores share them
    instead of waiting.
    """
    require_ray()
    if ray.is_initialized():
        return int(ray.cluster_resources().get("CPU", 0))
    if address not in (None, "auto") and (":" not in address or not _reachable(address)):
        raise ConfigError(f"no Ray cluster answers at --address {address} (expected host:port of a "
                          "head started with 'ray start --head', or 'auto')")
    kwargs = {"namespace": NAMESPACE, "include_dashboard": False, "log_to_driver": True,
              "logging_level": "WARNING", "configure_logging": True}
    try:
        if address is None:
            cpus = max(os.cpu_count() or 1, cpus_needed or 1)
            ray.init(num_cpus=cpus, object_store_memory=200 * 1024**2, **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, ray.exceptions.AuthenticationError) as exc:
        # A refused token shows only in Ray's log lines; what is printed is a timeout to connect.
        hint = "" if os.environ.get("RAY_AUTH_MODE") == "token" else (
            " (a cluster with token authentication needs RAY_AUTH_MODE=token and its token in "
            "~/.ray/auth_token: docs/distributed.md, 'Starting a cluster')")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot join the Ray cluster at --address {address}: {first}{hint}") from None
    return int(ray.cluster_resources().get("CPU", 0))


def disconnect() -> None:
    if ray is not None and ray.is_initialized():
        ray.shutdown()


def _flat(tensors: Sequence[torch.Tensor], dtype=np.float32) -> np.ndarray:
    if not tensors:
        return np.zeros(0, dtype=dtype)
    return torch.cat([t.detach().reshape(-1) for t in tensors]).numpy().astype(dtype, copy=False)


def _unflatten_into(flat: np.ndarray, tensors: Sequence[torch.Tensor]) -> None:
    """Copy a flat array into tensors, numpy to numpy (the object store's arrays are read-only)."""
    offset = 0
    for t in tensors:
        n = t.numel()
        t.detach().numpy()[...] = flat[offset : offset + n].reshape(t.shape)
        offset += n


def _views(flat: np.ndarray, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Zero-copy per-parameter views of a flat array (the object store hands it over read-only)."""
    source = torch.from_numpy(flat)
    out, offset = [], 0
    for t in like:
        n = t.numel()
        out.append(source[offset : offset + n].view_as(t))
        offset += n
    return out


class ParameterServer:
    """theta, RMSProp statistics, theta-, T and the learners' events, on one actor."""

    def __init__(self, config: TrainConfig, obs_shape, actions, head, uses_target: bool, state: dict | None,
                 start_frames: int):
        import warnings

        from asyncrl.optim import SharedRMSprop

        torch.set_num_threads(1)
        self.net = build_network(obs_shape, actions, head, config.net)
        self.target_net = build_network(obs_shape, actions, head, config.net) if uses_target else None
        self.optimizer = SharedRMSprop(self.net.parameters(), config.optim.rms_alpha, config.optim.rms_eps,
                                       init=config.optim.rms_init)
        if state is not None:
            self.net.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        if self.target_net is not None:
            self.target_net.load_state_dict(self.net.state_dict() if state is None
                                            else state.get("target_model", state["model"]))
        self.params = list(self.net.parameters())
        self.buffers = list(self.net.buffers())
        self.target_update = config.algo.target_update
        self.frames = start_frames
        self.target_version = 0
        self.stop = False
        self.events: list[tuple[str, int, dict]] = []
        self.progress: dict[int, int] = {}  # worker -> frames it added: the trainer's HangWatch reads it
        self.bytes_in = self.bytes_out = 0
        # What one update costs the server: wall time, and CPU time of the thread that applied it
        # (which a busy machine does not inflate).
        self.updates, self.busy_seconds, self.cpu_seconds = 0, 0.0, 0.0
        self.lock = threading.Lock()  # for the counters and event list only, never for theta
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")

    def _reply(self) -> tuple:
        params = _flat(self.params)
        buffers = _flat(self.buffers, np.float64)
        with self.lock:
            self.bytes_out += params.nbytes + buffers.nbytes
            return params, buffers, self.frames, self.stop, self.target_version

    def pull(self) -> tuple:
        return self._reply()

    def push(self, grad: np.ndarray, lr: float, frames: int, events: list, obs: np.ndarray | None,
             returns: np.ndarray | None = None, worker: int = -1) -> tuple:
        """Apply one learner's gradient (Hogwild: concurrent pushes do not wait for each other)."""
        started, started_cpu = time.perf_counter(), time.thread_time()
        self.optimizer.step(_views(grad, self.params), lr)
        if obs is not None:
            self.net.obs_norm.update(torch.from_numpy(obs))
        if returns is not None:
            self.net.reward_norm.update(torch.from_numpy(returns))
        with self.lock:
            self.bytes_in += grad.nbytes + sum(a.nbytes for a in (obs, returns) if a is not None)
            before, self.frames = self.frames, self.frames + frames
            self.progress[worker] = self.progress.get(worker, 0) + frames
            self.events.extend(events)
            crossed = self.target_net is not None and before // self.target_update < self.frames // self.target_update
        if crossed:  # T passed a multiple of I_target: theta- <- theta
            with torch.no_grad():
                for target, source in zip(self.target_net.state_dict().values(),
                                          self.net.state_dict().values(), strict=True):
                    target.copy_(source)
            with self.lock:
                self.target_version += 1
        reply = self._reply()
        with self.lock:
            self.updates += 1
            self.busy_seconds += time.perf_counter() - started
            self.cpu_seconds += time.thread_time() - started_cpu
        return reply

    def add(self, frames: int, events: list, worker: int = -1) -> None:
        """Frames and events without a gradient (a learner's last, or a skipped non-finite update)."""
        with self.lock:
            self.frames += frames
            self.progress[worker] = self.progress.get(worker, 0) + frames
            self.events.extend(events)

    def target(self) -> tuple[np.ndarray, int]:
        flat = _flat(list(self.target_net.parameters()) + list(self.target_net.buffers()))
        with self.lock:
            self.bytes_out += flat.nbytes
            return flat, self.target_version

    def drain(self) -> tuple[list, int, dict]:
        with self.lock:
            events, self.events = self.events, []
            traffic = {"bytes_in": self.bytes_in, "bytes_out": self.bytes_out, "updates": self.updates,
                       "busy_seconds": self.busy_seconds, "cpu_seconds": self.cpu_seconds}
            return events, self.frames, traffic, dict(self.progress)

    def request_stop(self) -> None:
        self.stop = True

    def snapshot(self) -> dict:
        state = {
            "model": {k: v.clone() for k, v in self.net.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "frames": self.frames,
        }
        if self.target_net is not None:
            state["target_model"] = {k: v.clone() for k, v in self.target_net.state_dict().items()}
        return state


class RayShared:
    """A learner's view of the parameter server (the ``SharedState`` of ``asyncrl.learner``).

    Pushes are pipelined: a learner does not wait for its gradient to arrive before it acts on,
    with the freshest theta it has received; it waits only when ``MAX_IN_FLIGHT`` of its pushes
    are unanswered. So its theta' is at most that many of its own updates old, the kind of
    staleness Hogwild learners see anyway, and a busy server or network costs latency, not
    frames.
    """

    MAX_IN_FLIGHT = 2

    def __init__(self, server, target_net: Network | None, worker: int = -1):
        self.server = server
        self.worker = worker
        self.target_net = target_net
        self.target_version = -1
        self.in_flight: deque[tuple[object, int]] = deque()  # (reply ref, frames it carries)
        self.known_frames = 0  # T in the server's latest reply
        self.pending_frames = 0
        self.pending_events: list = []
        self.pending_obs: list[np.ndarray] = []
        self.pending_returns: list[np.ndarray] = []
        self.stop = False
        self._take(ray.get(server.pull.remote()))

    def _take(self, reply) -> None:
        params, buffers, frames, stop, target_version = reply
        self.params, self.buffers = params, buffers
        self.known_frames, self.stop = frames, stop
        if self.target_net is not None and target_version != self.target_version:
            flat, self.target_version = ray.get(self.server.target.remote())
            _unflatten_into(flat, list(self.target_net.parameters()) + list(self.target_net.buffers()))

    def _receive(self) -> None:
        """Take every answered push in order; block on the oldest only when too many are open."""
        if len(self.in_flight) >= self.MAX_IN_FLIGHT:
            self._take(ray.get(self.in_flight.popleft()[0]))
        while self.in_flight:
            ready, _ = ray.wait([self.in_flight[0][0]], timeout=0)
            if not ready:
                break
            self._take(ray.get(self.in_flight.popleft()[0]))

    def pull(self, tensors: Sequence[torch.Tensor]) -> None:
        self._receive()
        n_params = sum(1 for t in tensors if isinstance(t, torch.nn.Parameter))
        _unflatten_into(self.params, tensors[:n_params])
        if n_params < len(tensors):
            _unflatten_into(self.buffers, tensors[n_params:])

    def observe(self, obs: torch.Tensor) -> None:
        self.pending_obs.append(obs.numpy().copy())

    def observe_returns(self, returns: torch.Tensor) -> None:
        self.pending_returns.append(returns.numpy().copy())

    def push(self, grads: Sequence[torch.Tensor], lr: float, measure: bool = False) -> None:
        # The update is applied by the parameter server, asynchronously: its size is not measured here.
        obs = np.concatenate(self.pending_obs) if self.pending_obs else None
        returns = np.concatenate(self.pending_returns) if self.pending_returns else None
        ref = self.server.push.remote(_flat(grads), lr, self.pending_frames, self.pending_events, obs, returns,
                                      self.worker)
        self.in_flight.append((ref, self.pending_frames))
        self.pending_frames, self.pending_events, self.pending_obs, self.pending_returns = 0, [], [], []

    def add_frames(self, n: int) -> int:
        self.pending_frames += n
        return self.known_frames + sum(f for _, f in self.in_flight) + self.pending_frames

    def should_stop(self) -> bool:
        return self.stop

    def target_network(self) -> Network | None:
        return self.target_net

    def update_target(self) -> None:
        """The parameter server copies theta into theta- on the exact T (see the module docstring)."""

    def report(self, kind: str, worker: int, payload: dict) -> None:
        self.pending_events.append((kind, worker, payload))

    def flush(self) -> None:
        """Send what the last segment left queued (its frames, the final events) and wait for it."""
        ray.get([ref for ref, _ in self.in_flight])
        self.in_flight.clear()
        if self.pending_frames or self.pending_events:
            ray.get(self.server.add.remote(self.pending_frames, self.pending_events, self.worker))
            self.pending_frames, self.pending_events = 0, []


class Learner:
    """One actor-learner on one CPU of the cluster."""

    def run(self, worker: int, config: TrainConfig, server, seed: int, obs_shape, actions, head,
            uses_target: bool) -> None:
        target_net = build_network(obs_shape, actions, head, config.net) if uses_target else None
        shared = RayShared(server, target_net, worker)
        node = ray.get_runtime_context().get_node_id()
        shared.report("node", worker, {"node": node, "host": socket.gethostname(), "pid": os.getpid()})
        try:
            run_learner(worker, config, shared, seed)
        except BaseException as exc:
            shared.report("error", worker, {"message": f"{type(exc).__name__}: {exc}",
                                            "traceback": traceback.format_exc()})
            shared.flush()
            raise
        shared.flush()


class RayBackend:
    """Learners as Ray actors around a parameter-server actor; restarts learners that die."""

    def __init__(self, config: TrainConfig, net: Network, target_net: Network | None, optimizer,
                 start_frames: int, obs_shape, actions, head):
        require_ray()
        self.config = config
        self.frames_seen = start_frames
        self.spec = (obs_shape, actions, head, target_net is not None)
        state = {"model": net.state_dict(), "optimizer": optimizer.state_dict()}
        if target_net is not None:
            state["target_model"] = target_net.state_dict()
        server_cls = ray.remote(num_cpus=0, max_concurrency=config.run.workers + 4)(ParameterServer)
        self.server = server_cls.remote(config, obs_shape, actions, head, target_net is not None, state,
                                        start_frames)
        self.learner_cls = ray.remote(num_cpus=config.run.torch_threads, max_restarts=0)(Learner)
        self.learners: dict[int, tuple] = {}  # worker -> (actor, run ref)
        self.finished: set[int] = set()
        self.nodes: dict[int, str] = {}
        self.restarts = RestartBudget()
        self.restarting = True  # False once the run is stopping
        self.killed: dict[int, str] = {}  # worker -> why the trainer ended it (a hung learner)
        self.learner_frames: dict[int, int] = {}  # worker -> frames it added, as the server last said
        self.failure: str | None = None
        self.server_lost = False
        self.failure_reported = False
        self.traffic = {"bytes_in": 0, "bytes_out": 0, "updates": 0, "busy_seconds": 0.0, "cpu_seconds": 0.0}
        self.started_at: float | None = None

    def _launch(self, worker: int) -> None:
        seed = learner_seed(self.config.run.seed, worker, self.frames_seen)
        actor = self.learner_cls.remote()
        ref = actor.run.remote(worker, self.config, self.server, seed, *self.spec)
        self.learners[worker] = (actor, ref)

    def start(self) -> None:
        ray.get(self.server.pull.remote())  # the server is up before any learner asks it
        for worker in range(self.config.run.workers):
            self._launch(worker)
        self.started_at = time.monotonic()

    def frames(self) -> int:
        return self.frames_seen

    def _ask_server(self, method: str, timeout: float = 60.0):
        """Call the parameter server; None once it is lost (the run then fails, resumable)."""
        if self.server_lost:
            return None
        try:
            return ray.get(getattr(self.server, method).remote(), timeout=timeout)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError) as exc:
            self.server_lost = True
            self.failure = (f"the parameter server was lost ({type(exc).__name__}); the run directory keeps "
                            "its last checkpoint: continue with --resume")
            return None

    def _drain(self) -> list:
        reply = self._ask_server("drain")
        if reply is None:
            return []
        events, self.frames_seen, self.traffic, self.learner_frames = reply
        return events

    def poll(self, timeout: float) -> list[tuple[str, int, dict]]:
        refs = {ref: w for w, (_, ref) in self.learners.items() if w not in self.finished}
        done, _ = ray.wait(list(refs), num_returns=len(refs), timeout=timeout) if refs else ([], [])
        events = self._drain()
        if self.server_lost:
            if self.failure_reported:
                return []
            self.failure_reported = True
            return [("backend_error", -1, {"message": self.failure})]
        out = []
        for kind, worker, payload in events:
            if kind == "node":
                self.nodes[worker] = payload["node"]
            elif kind != "error":  # a failing learner's error is reported with its restart below
                out.append((kind, worker, payload))
        errors = {w: p["message"] for kind, w, p in events if kind == "error"}
        for ref in done:
            worker = refs[ref]
            try:
                ray.get(ref)
                self.finished.add(worker)
            except Exception as exc:  # noqa: BLE001 (the actor died: killed, out of memory, or its loop raised)
                cause = self.killed.pop(worker, None) or errors.get(worker) or describe_death(exc)
                out.append(self._restart(worker, cause))
        return out

    def _restart(self, worker: int, cause: str) -> tuple[str, int, dict]:
        if not self.restarting:  # stopping: a learner that ends now is not replaced
            self.finished.add(worker)
            return ("stopped", worker, {"cause": cause})
        if not self.restarts.allow():
            self.failure = self.restarts.exhausted_message(cause)
            self.finished.add(worker)
            return ("error", worker, {"message": self.failure})
        self._launch(worker)
        return ("restarted", worker, {"cause": cause})

    def running(self) -> int:
        return len(self.learners) - len(self.finished)

    def progress(self) -> dict[int, int]:
        """Each running learner's frames, as the parameter server counted them at the last poll."""
        return {w: self.learner_frames.get(w, 0) for w in self.learners if w not in self.finished}

    def kill_learner(self, worker: int, cause: str) -> None:
        """End a hung learner's actor; the next ``poll`` restarts it with ``cause``."""
        self.killed[worker] = cause
        ray.kill(self.learners[worker][0])

    def hold_restarts(self) -> None:
        """No more restarts: the run is stopping. Only sets a flag, so a signal handler may call it."""
        self.restarting = False

    def request_stop(self) -> None:
        self._ask_server("request_stop")

    def snapshot(self) -> dict | None:
        return self._ask_server("snapshot", timeout=300.0)

    def stats(self) -> dict:
        """What the summary records about the cluster and the traffic to the parameter server."""
        elapsed = time.monotonic() - self.started_at if self.started_at else 0.0
        per_learner = self.config.run.workers * elapsed or math.inf
        t = self.traffic
        return {
            "learner_nodes": len(set(self.nodes.values())),
            "bytes_to_server_per_learner_per_second": round(t["bytes_in"] / per_learner),
            "bytes_from_server_per_learner_per_second": round(t["bytes_out"] / per_learner),
            "updates_per_learner_per_second": round(t["updates"] / per_learner, 1),
            # Wall time the server spends on one update, reply included: its capacity is about
            # the inverse, in updates per second per core it can use.
            "server_seconds_per_update": round(t["busy_seconds"] / t["updates"], 6) if t["updates"] else None,
            # The CPU time of the same work in the thread that did it: on a shared or busy machine the
            # wall time above counts the waits too (bench/ps_load.py adds Ray's own threads).
            "server_cpu_seconds_per_update": round(t["cpu_seconds"] / t["updates"], 6) if t["updates"] else None,
        }

    def shutdown(self, timeout: float = 10.0) -> list[tuple[str, int, dict]]:
        """Stop every learner, returning the events still queued. Each learner's actor is killed at
        the end (ray.kill asks Ray to; its process ends a moment later), whether or not it stopped."""
        try:
            self.request_stop()
            refs = [ref for w, (_, ref) in self.learners.items() if w not in self.finished]
            if refs:
                ray.wait(refs, num_returns=len(refs), timeout=timeout)
        finally:  # a second Ctrl-C ends the wait, not the cleanup
            for actor, _ in self.learners.values():
                ray.kill(actor)
        return [e for e in self._drain() if e[0] not in ("node", "error")]

    def close(self) -> None:
        ray.kill(self.server)
        disconnect()


def describe_death(exc: Exception) -> str:
    if isinstance(exc, ray.exceptions.ActorDiedError | ray.exceptions.ActorUnavailableError):
        return "its actor died (killed, or its node or process was lost)"
    if isinstance(exc, ray.exceptions.RayTaskError):
        return f"{type(exc.cause).__name__}: {exc.cause}" if exc.cause is not None else str(exc).splitlines()[0]
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
