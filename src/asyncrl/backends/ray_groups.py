"""The Ray backend's node groups: each node's learners share memory, as on one machine, and one
exchanger per node trades theta's changes with a sharded parameter service (``exchange``).

Who owns what:
  driver (trainer)   places a group on each node, drains the groups' events, restarts a group whose
                     node is lost, checkpoints from the service.
  parameter service  S shards (``exchange.ParameterShard``), spread over the nodes: the global theta
                     and theta- in slices; shard 0 also T, the stop flag and the statistics.
  node group         an actor holding as many CPUs as it has learners: the node's theta, its
                     RMSProp statistics g and its frame counters in shared memory, its learners as
                     processes (``LocalBackend``), and the exchanger, a thread that trades with
                     the shards ``--exchange-rate`` times per second, over a TCP connection of
                     its own to each shard (``link``). A learner never waits for it.

What is the paper's, and what differs across nodes: on a node, everything (Hogwild learners on one
theta, one shared g). Across nodes, a learner sees the other nodes' updates one exchange late
(about 1 / rate seconds plus the exchange's round trip, ``exchange_seconds_*`` in summary.json), and
each node keeps its own g (the statistics of its own learners' gradients). theta- is copied by the
service on the global T, and reaches a node with its next exchange.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Sequence

import numpy as np
import torch

from asyncrl.backends import RestartBudget
from asyncrl.backends.exchange import (
    Exchanger,
    ParameterShard,
    additive_stats,
    flat_params,
    norm_modules,
    set_flat,
    set_stats,
    shard_slices,
    wire_dtype,
)
from asyncrl.backends.link import ShardLink, send_all
from asyncrl.backends.ray_cluster import describe_death, ray, require_ray
from asyncrl.config import ConfigError, TrainConfig
from asyncrl.nets import Network, build_network
from asyncrl.optim import SharedRMSprop

# A node group finishes its learners' segments and its last exchange within this.
SHUTDOWN_SECONDS = 30.0
# A group that does not answer a poll within this (beyond the poll's own wait) is replaced.
ANSWER_SECONDS = 60.0
# How often a node alone in the run exchanges with the service.
LONE_INTERVAL_SECONDS = 1.0


class NodeGroup:
    """The learners of one node around their shared theta, and the node's exchanger."""

    def __init__(self, group: int, workers: Sequence[int], config: TrainConfig, spec: tuple, shards: list,
                 slices: Sequence[slice], square_avg: list[np.ndarray] | None, links: tuple, alone: bool = False):
        """``links``: (each shard's address, the run's secret) for the exchange's connections."""
        from asyncrl.backends.local import LocalBackend

        torch.set_num_threads(1)
        obs_shape, actions, head, uses_target = spec
        self.group, self.shards, self.config = group, shards, config
        self.net = build_network(obs_shape, actions, head, config.net)
        self.target_net = build_network(obs_shape, actions, head, config.net) if uses_target else None
        self.optimizer = SharedRMSprop(self.net.parameters(), config.optim.rms_alpha, config.optim.rms_eps,
                                       init=config.optim.rms_init)
        if square_avg is not None:
            self.optimizer.load_state_dict({"square_avg": [torch.from_numpy(np.array(g)) for g in square_avg]})
        addresses, secret = links
        self.links = [ShardLink(a, secret, wire_dtype(config.run.exchange_dtype), ANSWER_SECONDS) for a in addresses]
        joined = ray.get([s.join.remote(group) for s in shards])
        self.exchanger = Exchanger(self.net.parameters(), norm_modules(self.net), slices,
                                   config.run.exchange_dtype, joined)
        _, _, frames, _, self.target_version = joined[0]
        if self.target_net is not None:
            self._take_target(self.target_version)
        self.backend = LocalBackend(config, self.net, self.target_net, self.optimizer, frames, workers,
                                    learners_update_target=False)
        self.reported = 0  # of this group's frames, those the service has counted
        # A node alone has no other node's updates to take, and its learners' T is exact without
        # the service: it exchanges once a second, for the trainer's count, checkpoints and restarts.
        self.interval = LONE_INTERVAL_SECONDS if alone else 1.0 / config.run.exchange_rate
        self.latencies: list[float] = []
        self.lost: str | None = None  # why the exchanger stopped: a shard was lost
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._exchange_loop, name="asyncrl-exchanger", daemon=True)

    def _take_target(self, version: int) -> None:
        flat = np.concatenate(ray.get([s.target_slice.remote(version) for s in self.shards]))
        set_flat(list(self.target_net.parameters()), flat)
        with torch.no_grad():
            for target, source in zip(self.target_net.buffers(), self.net.buffers(), strict=True):
                target.copy_(source)
        self.target_version = version

    def start(self) -> None:
        self.backend.start()
        self.thread.start()

    def _exchange(self) -> None:
        started = time.perf_counter()
        counts = self.backend.frame_counts
        local = int(counts[1:].sum())
        wires, stats = self.exchanger.send()
        send_all(self.links, self.group, wires, local - self.reported, stats)
        replies = [link.receive() for link in self.links]
        self.reported = local
        self.exchanger.receive([r[0] for r in replies], replies[0][1])
        _, _, frames, stop, version = replies[0]
        counts[0] = frames - local  # the learners' T: the global count plus their frames not yet sent
        if self.target_net is not None and version != self.target_version:
            self._take_target(version)
        if stop:
            self.backend.request_stop()
        self.latencies.append(time.perf_counter() - started)

    def _exchange_loop(self) -> None:
        interval = self.interval
        while not self.closing.is_set():
            started = time.monotonic()
            try:
                self._exchange()
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, OSError) as exc:
                self.lost = f"a parameter-service shard was lost ({type(exc).__name__})"
            except Exception as exc:  # noqa: BLE001 (a node that no longer exchanges must not run on unseen)
                self.lost = f"node group {self.group}'s exchanger failed ({type(exc).__name__}: {exc})"
            if self.lost is not None:
                self.backend.request_stop()
                return
            self.closing.wait(max(0.0, interval - (time.monotonic() - started)))

    def poll(self, timeout: float) -> tuple:
        """The learners' events, their progress and how many run, and the exchanges since the last poll."""
        events = self.backend.poll(timeout)
        latencies, self.latencies = self.latencies, []
        return events, self.backend.progress(), self.backend.running(), latencies, self.lost

    def kill_learner(self, worker: int, cause: str) -> None:
        self.backend.kill_learner(worker, cause)

    def hold_restarts(self) -> None:
        self.backend.hold_restarts()

    def square_avg(self) -> list[np.ndarray]:
        return [g.clone().numpy() for g in self.optimizer.square_avg]

    def shutdown(self, timeout: float) -> list:
        """Stop the learners, then send what they did since the last exchange."""
        events = self.backend.shutdown(timeout)
        self.closing.set()
        if self.thread.is_alive():
            self.thread.join()
        if self.lost is None:
            try:
                self._exchange()
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, OSError):
                pass
        for link in self.links:
            link.close()
        return events


def place(workers: int, node_cpus: dict[str, int], threads: int) -> dict[str, list[int]]:
    """Learner numbers for each node, one at a time to the node with the most free CPUs (ties: the
    order given), so a run smaller than the cluster spreads over it. Nodes that get none are left out."""
    free = {node: cpus // threads for node, cpus in node_cpus.items()}
    out: dict[str, list[int]] = {node: [] for node in node_cpus}
    order = list(node_cpus)
    for worker in range(workers):
        node = max(order, key=lambda n: (free[n], -order.index(n)))
        if free[node] <= 0:
            raise ValueError(f"{workers} learners of {threads} CPUs do not fit on {node_cpus}")
        out[node].append(worker)
        free[node] -= 1
    return {node: ws for node, ws in out.items() if ws}


class GroupedRayBackend:
    """A node group per node around a sharded parameter service; restarts a group whose node is lost."""

    def __init__(self, config: TrainConfig, net: Network, target_net: Network | None, optimizer,
                 start_frames: int, obs_shape, actions, head):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        require_ray()
        self.affinity = NodeAffinitySchedulingStrategy
        self.config = config
        self.spec = (obs_shape, actions, head, target_net is not None)
        self.frames_seen = start_frames
        theta = flat_params(list(net.parameters()))
        target = flat_params(list(target_net.parameters())) if target_net is not None else None
        norms = norm_modules(net)
        stats = additive_stats(norms) if norms else None
        self.slices = shard_slices(theta.size, config.run.ray_shards)
        shard_cls = ray.remote(num_cpus=0, max_concurrency=64, max_restarts=0)(ParameterShard)
        self.shards = [
            shard_cls.options(scheduling_strategy="SPREAD").remote(
                theta[s], None if target is None else target[s], stats if i == 0 else None, start_frames,
                config.algo.target_update, config.run.exchange_dtype)
            for i, s in enumerate(self.slices)
        ]
        # The exchanges' own connections (``link``): where each shard listens, and the run's secret.
        secret = secrets.token_bytes(32)
        self.links = (ray.get([s.serve.remote(secret) for s in self.shards]), secret)
        self.square_avg = [g.numpy().copy() for g in optimizer.square_avg]
        self.group_cls = ray.remote(max_concurrency=4, max_restarts=0)(NodeGroup)
        nodes = {n["NodeID"]: int(n["Resources"].get("CPU", 0)) for n in ray.nodes()
                 if n.get("Alive") and n["Resources"].get("CPU", 0) >= 1}
        try:
            self.layout = place(config.run.workers, nodes, config.run.torch_threads)
        except ValueError:
            per_node = ", ".join(str(c) for c in nodes.values())
            raise ConfigError(f"--workers {config.run.workers} of {config.run.torch_threads} CPU(s) each do not "
                              f"fit on the cluster's nodes (CPUs per node: {per_node}); a node group "
                              "runs on one node") from None
        self.groups: dict[int, object] = {}  # group -> actor
        self.group_workers: dict[int, list[int]] = {}
        self.group_nodes: dict[int, str] = {}
        self.finished: set[int] = set()
        self.restarts = RestartBudget()
        self.restarting = True
        self.failure: str | None = None
        self.failure_reported = False
        self.learner_frames: dict[int, int] = {}
        self.running_learners: dict[int, int] = {}
        self.latencies: list[float] = []
        self.counters: dict = {}
        self.started_at: float | None = None
        self.starting: dict[int, object] = {}  # group -> its start call, while Ray places a restarted group

    def _launch(self, group: int, square_avg: list[np.ndarray] | None, wait: bool = True) -> None:
        """Start a group on its node (or, its node gone, wherever Ray finds the CPUs). Without
        ``wait`` the run goes on meanwhile; a group that no node has the CPUs for waits for one."""
        workers, node = self.group_workers[group], self.group_nodes[group]
        actor = self.group_cls.options(
            num_cpus=len(workers) * self.config.run.torch_threads,
            scheduling_strategy=self.affinity(node_id=node, soft=True),
        ).remote(group, workers, self.config, self.spec, self.shards, self.slices, square_avg, self.links,
                 alone=len(self.group_workers) == 1)
        self.groups[group] = actor
        started = actor.start.remote()
        if wait:
            ray.get(started)
        else:
            self.starting[group] = started

    def start(self) -> None:
        ray.get([s.status.remote() for s in self.shards])
        for group, (node, workers) in enumerate(self.layout.items()):
            self.group_workers[group], self.group_nodes[group] = workers, node
        self.started_at = time.monotonic()  # the first group's exchanges start with it
        for group in self.group_workers:
            self._launch(group, self.square_avg)
            self.running_learners[group] = len(self.group_workers[group])

    def frames(self) -> int:
        return self.frames_seen

    def _lose_service(self, why: str) -> None:
        if self.failure is None:
            self.failure = (f"{why}; the run directory keeps its last checkpoint: continue with --resume")

    def _status(self) -> None:
        try:
            statuses = ray.get([s.status.remote() for s in self.shards], timeout=60)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                ray.exceptions.GetTimeoutError) as exc:
            self._lose_service(f"a parameter-service shard was lost ({type(exc).__name__})")
            return
        self.frames_seen = statuses[0][0]
        self.counters = {key: sum(c[key] for _, c in statuses) for key in statuses[0][1]}

    def poll(self, timeout: float) -> list[tuple[str, int, dict]]:
        out: list = []
        for group, ref in list(self.starting.items()):  # restarted groups, once Ray has placed them
            if ray.wait([ref], timeout=0)[0]:
                del self.starting[group]
                try:
                    ray.get(ref)
                except ray.exceptions.RayError as exc:  # died, or its start raised
                    out += self._restart(group, describe_death(exc))
        live = [g for g in self.groups if g not in self.finished and g not in self.starting]
        refs = {self.groups[g].poll.remote(timeout): g for g in live}
        ready, late = ray.wait(list(refs), num_returns=len(refs), timeout=timeout + ANSWER_SECONDS) if refs else ([], [])
        for ref in late:  # alive but not answering (its node cut off, or its process stuck): replaced
            ray.kill(self.groups[refs[ref]])
            out += self._restart(refs[ref], f"it did not answer for {ANSWER_SECONDS:g} s")
        for ref in ready:
            group = refs[ref]
            try:
                events, progress, running, latencies, lost = ray.get(ref)
            except ray.exceptions.RayError as exc:  # died, or its poll raised
                out += self._restart(group, describe_death(exc))
                continue
            out += events
            self.learner_frames.update(progress)
            self.running_learners[group] = running
            self.latencies += latencies
            if lost:
                self._lose_service(lost)
        self._status()
        if self.failure is not None and not self.failure_reported:
            self.failure_reported = True
            out.append(("backend_error", -1, {"message": self.failure}))
        return out

    def _restart(self, group: int, cause: str) -> list[tuple[str, int, dict]]:
        """A lost group (its node, or its actor) starts again on the global theta."""
        workers = self.group_workers[group]
        cause = f"its node group was lost: {cause}"
        if not self.restarting:
            self.finished.add(group)
            return [("stopped", w, {"cause": cause}) for w in workers]
        if not self.restarts.allow():
            self.failure = self.restarts.exhausted_message(cause)
            self.failure_reported = True
            self.finished.add(group)
            return [("error", workers[0], {"message": self.failure})]
        survivors = [a for g, a in self.groups.items() if g != group and g not in self.finished | set(self.starting)]
        square_avg = self.square_avg
        for actor in survivors:  # a surviving node's statistics of the gradients, rather than the start's
            try:
                square_avg = ray.get(actor.square_avg.remote(), timeout=30)
                break
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                continue
        for worker in workers:
            self.learner_frames.pop(worker, None)
        self._launch(group, square_avg, wait=False)
        return [("restarted", w, {"cause": cause}) for w in workers]

    def running(self) -> int:
        return sum(n for g, n in self.running_learners.items() if g not in self.finished)

    def progress(self) -> dict[int, int]:
        return dict(self.learner_frames)

    def _group_of(self, worker: int) -> int:
        return next(g for g, ws in self.group_workers.items() if worker in ws)

    def kill_learner(self, worker: int, cause: str) -> None:
        try:
            ray.get(self.groups[self._group_of(worker)].kill_learner.remote(worker, cause), timeout=60)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
            pass  # its group is lost: the next poll restarts it, this learner with it

    def hold_restarts(self) -> None:
        """Only sets a flag here, so a signal handler may call it; groups are told at shutdown."""
        self.restarting = False

    def request_stop(self) -> None:
        try:
            ray.get(self.shards[0].request_stop.remote(), timeout=60)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
            pass

    def snapshot(self) -> dict | None:
        try:
            parts = ray.get([s.snapshot.remote() for s in self.shards], timeout=300)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                ray.exceptions.GetTimeoutError) as exc:
            self._lose_service(f"a parameter-service shard was lost ({type(exc).__name__})")
            return None
        square_avg = self.square_avg
        for group, actor in self.groups.items():
            if group in self.finished or group in self.starting:
                continue
            try:
                square_avg = ray.get(actor.square_avg.remote(), timeout=60)
                break
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                continue
        return _state(self.spec, self.config, parts, square_avg)

    def stats(self) -> dict:
        elapsed = time.monotonic() - self.started_at if self.started_at else 0.0
        nodes = len(self.group_workers) or 1
        per_node = nodes * elapsed or math.inf
        c = self.counters
        exchanges = c.get("exchanges", 0) / max(1, len(self.shards))
        lat = sorted(self.latencies)
        return {
            "learner_nodes": len(set(self.group_nodes.values())),
            "ray_layout": "node-groups",
            "shards": len(self.shards),
            "exchanges_per_node_per_second": round(exchanges / per_node, 1),
            "bytes_to_service_per_node_per_second": round(c.get("bytes_in", 0) / per_node),
            "bytes_from_service_per_node_per_second": round(c.get("bytes_out", 0) / per_node),
            # An exchange's round trip as the node saw it: how late a node sees the others' updates,
            # on top of the interval between exchanges.
            "exchange_seconds_p50": round(float(np.percentile(lat, 50)), 4) if lat else None,
            "exchange_seconds_p99": round(float(np.percentile(lat, 99)), 4) if lat else None,
            # The shards' CPU time per exchange (summed over shards), in the threads that did it.
            "service_cpu_seconds_per_exchange": round(c["cpu_seconds"] / exchanges, 6) if exchanges else None,
        }

    def shutdown(self, timeout: float = 10.0) -> list[tuple[str, int, dict]]:
        self.request_stop()
        for group in self.starting:
            ray.kill(self.groups[group])
        live = {g: a for g, a in self.groups.items() if g not in self.finished and g not in self.starting}
        refs = {a.shutdown.remote(timeout): g for g, a in live.items()}
        out = []
        try:
            ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=timeout + SHUTDOWN_SECONDS)
            for ref in ready:
                try:
                    out += ray.get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                    pass
        finally:  # a second Ctrl-C ends the wait, not the cleanup
            for actor in live.values():
                ray.kill(actor)
        self._status()
        return [e for e in out if e[0] != "error"]

    def close(self) -> None:
        from asyncrl.backends.ray_cluster import disconnect

        for shard in self.shards:
            ray.kill(shard)
        disconnect()


def _state(spec: tuple, config: TrainConfig, parts: list[tuple], square_avg) -> dict:
    """A checkpoint in the local backend's form, from the shards' slices and one node's g."""
    obs_shape, actions, head, uses_target = spec
    model = build_network(obs_shape, actions, head, config.net)
    set_flat(list(model.parameters()), np.concatenate([p[0] for p in parts]))
    if parts[0][2] is not None:
        set_stats(norm_modules(model), parts[0][2])
    state = {
        "model": {k: v.clone() for k, v in model.state_dict().items()},
        "optimizer": {"square_avg": [torch.from_numpy(np.array(g)) for g in square_avg],
                      "alpha": config.optim.rms_alpha, "eps": config.optim.rms_eps},
        "frames": parts[0][3],
    }
    if uses_target:
        set_flat(list(model.parameters()), np.concatenate([p[1] for p in parts]))
        state["target_model"] = {k: v.clone() for k, v in model.state_dict().items()}
    return state
