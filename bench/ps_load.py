"""Load on the parameter server: synthetic learners push at an offered rate, the server's cost is measured.

No environment and no learner network: each client is a Ray actor that sends gradients of the real
network's size (the Atari A3C network, built with asyncrl's own ``build_network``, or ``--params N``)
on a schedule, open loop, with at most as many calls unanswered as a real learner allows
(``RayShared.MAX_IN_FLIGHT``), and fetches every reply (theta, the same size) as a learner does.
For each offered rate (total calls per second over all clients) it reports:

  achieved       calls answered within the measurement window, per second (never above offered)
  p50 / p99      client-side wall latency of one call, from the send to the reply in the client
  late           sends that waited for an answer because MAX_IN_FLIGHT calls were open (saturation)
  server CPU     per call, as CPU time (robust to a busy machine), measured inside the server actor:
                   in-call   thread CPU of the method body (``time.thread_time()`` around it)
                   threads   CPU of the actor's threads that ran calls: the body plus Ray's
                             deserialising the arguments and storing the reply (over tcp: the
                             connection's thread, receiving and sending)
                   process   CPU of the whole server process (Ray's I/O threads included), less its
                             idle rate measured before the sweep
  per core       the rate one core sustains at that cost: 1 / (process CPU per call)

Targets (``--target``): ``push`` is today's server (``asyncrl.backends.ray_cluster.ParameterServer``,
one actor, ``push(grad, lr, frames, events, obs, returns, worker) -> (theta, buffers, T, stop,
target version)``). ``exchange`` is the node groups' sharded parameter service
(``asyncrl.backends.exchange.ParameterShard``, ``--shards`` of them): a client is a node's exchanger
(it forms its change from a network of the real size and applies the answer, and its CPU per
exchange is reported too), reaching the shards over the node groups' own TCP connections
(``--transport tcp``, as ``asyncrl.backends.link``) or by an actor call per shard (``ray``).

    python bench/ps_load.py --clients 2 --rates 10 25 50 100 200 --seconds 10 --repeats 3
    python bench/ps_load.py --params 10000 --clients 2 --rates 20 50 --seconds 3 --json out.json

It starts one local Ray instance of its own (its own temp dir and ports) and shuts it down before it
exits; with ``--nodes K``, K Ray nodes on this machine (``ray start``, token authentication on), the
server alone on the head and the clients on the others, so arguments and replies cross between
nodes as between machines (over loopback, on the same cores).

    python bench/ps_load.py --target exchange --nodes 3 --clients 2 --rates 50 100 200 --seconds 4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import machine

ATARI_SHAPE, ATARI_ACTIONS = (4, 84, 84), 6  # Pong's action set; the count barely moves the size


def server_config(env_id: str = "ALE/Pong-v5"):
    from asyncrl.config import EnvConfig, TrainConfig, resolve

    return resolve(TrainConfig(env=EnvConfig(env_id=env_id)))


def network_spec(params: int | None) -> tuple[tuple[int, ...], int]:
    """The observation shape and action count of the server's network: the Atari A3C network, or
    (``params``) a one-hidden-layer MLP (the Atari config's 200 units) whose input width brings it
    nearest to ``params`` parameters."""
    if params is None:
        return ATARI_SHAPE, ATARI_ACTIONS
    from asyncrl.nets import build_network

    config = server_config().net
    size = [sum(p.numel() for p in build_network((d,), ATARI_ACTIONS, "actor_critic", config).parameters())
            for d in (1, 2)]
    width = max(1, round((params - size[0]) / (size[1] - size[0])) + 1)
    return (width,), ATARI_ACTIONS


def count_params(shape, actions) -> int:
    from asyncrl.nets import build_network

    return sum(p.numel() for p in build_network(shape, actions, "actor_critic", server_config().net).parameters())


# --- the server, measured ---------------------------------------------------------------------

def _thread_cpu() -> dict[int, tuple[str, float]]:
    """Every thread of this process: native id -> (name, CPU seconds), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in os.scandir("/proc/self/task"):
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the thread ended
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)  # utime + stime
    return out


def measured(server_cls, method: str = "push"):
    """``server_cls`` with its ``method`` timed: thread CPU and wall time of the body, and which of the
    actor's threads ran it (a threaded actor runs each call in a thread of its pool)."""
    import threading

    class Measured(server_cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._m_lock = threading.Lock()
            self._m_calls, self._m_cpu, self._m_wall = 0, 0.0, 0.0
            self._m_threads: set[int] = set()

        def _timed(self, *args, **kwargs):
            cpu, wall = time.thread_time(), time.perf_counter()
            reply = getattr(super(), method)(*args, **kwargs)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            with self._m_lock:
                self._m_calls += 1
                self._m_cpu += cpu
                self._m_wall += wall
                self._m_threads.add(threading.get_native_id())
            return reply

        def sample(self) -> dict:
            threads = _thread_cpu()
            with self._m_lock:
                return {"time": time.time(), "calls": self._m_calls, "in_call_cpu": self._m_cpu,
                        "in_call_wall": self._m_wall, "process_cpu": time.process_time(),
                        "threads": {str(tid): cpu for tid, (_, cpu) in threads.items()},
                        "call_threads": sorted(str(t) for t in self._m_threads),
                        "names": {str(tid): name for tid, (name, _) in threads.items()}}

    setattr(Measured, method, Measured._timed)
    Measured.__name__ = Measured.__qualname__ = f"Measured{server_cls.__name__}"
    return Measured


def random_change(params: int, seed: int) -> np.ndarray:
    """A gradient, or a node's change of theta, of the real size."""
    return (np.random.default_rng(seed).standard_normal(params) * 1e-3).astype(np.float32)


def ray_wait(refs: list, timeout: float | None) -> list | None:
    """The replies of one call's refs, or None when they are not all in within ``timeout``."""
    import ray

    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout)
    return ray.get(refs) if len(ready) == len(refs) else None


class PushTarget:
    """Today's server: one ParameterServer actor; a client calls ``push`` and gets theta back."""

    name = "push"

    def __init__(self, clients: int, shape, actions, server_options: dict):
        import ray

        from asyncrl.backends.ray_cluster import ParameterServer, RayShared

        self.max_in_flight = RayShared.MAX_IN_FLIGHT
        config = server_config()
        # As RayBackend builds it: no CPU reserved, one thread per learner and 4 for the driver's calls.
        cls = ray.remote(num_cpus=0, max_concurrency=clients + 4, **server_options)(measured(ParameterServer))
        self.server = cls.remote(config, shape, actions, "actor_critic", False, None, 0)
        ray.get(self.server.pull.remote())

    def sample(self) -> list[dict]:
        import ray

        return [ray.get(self.server.sample.remote())]

    def message(self, params: int, seed: int) -> np.ndarray:
        return random_change(params, seed)

    def connect(self, worker: int) -> None:
        return None

    def call(self, grad: np.ndarray, worker: int, connection) -> list:
        """One learner segment's call: its gradient, lr, 20 frames (t_max 5, action repeat 4), no events."""
        return [self.server.push.remote(grad, 1e-4, 20, [], None, None, worker)]

    def wait(self, refs: list, timeout: float | None) -> list | None:
        return ray_wait(refs, timeout)

    def close(self) -> None:
        import ray

        ray.kill(self.server)


class ExchangeTarget:
    """The node groups' parameter service: theta over ``shards`` ParameterShard actors (as
    GroupedRayBackend makes them); a client is a node's exchanger, and one exchange goes to every
    shard with its slice of the node's change, answered with theta (bf16: the others' changes).
    ``transport``: ``tcp``, the node groups' own connections (``link``), or ``ray``, an actor call
    per shard (the node groups' first design)."""

    name = "exchange"

    def __init__(self, clients: int, shape, actions, server_options: dict, shards: int = 1, dtype: str = "fp32",
                 transport: str = "tcp"):
        import secrets

        import ray

        from asyncrl.backends.exchange import ParameterShard, shard_slices
        from asyncrl.nets import build_network

        self.max_in_flight = 1  # an exchanger waits for its exchange before the next
        self.dtype, self.shape, self.actions = dtype, shape, actions
        net = build_network(shape, actions, "actor_critic", server_config().net)
        theta = np.concatenate([p.detach().reshape(-1).numpy() for p in net.parameters()])
        self.slices = shard_slices(theta.size, shards)
        cls = ray.remote(num_cpus=0, max_concurrency=64, **server_options)(measured(ParameterShard, "exchange"))
        placement = {} if "scheduling_strategy" in server_options else {"scheduling_strategy": "SPREAD"}
        self.shards = [cls.options(**placement).remote(theta[s], None, None, 0, 10**9, dtype) for s in self.slices]
        self.transport, self.secret = transport, secrets.token_bytes(32)
        self.addresses = ray.get([s.serve.remote(self.secret) for s in self.shards]) if transport == "tcp" else None

    def sample(self) -> list[dict]:
        import ray

        return ray.get([shard.sample.remote() for shard in self.shards])

    def node(self, worker: int):
        """A node's side: the real network's parameters and an ``Exchanger`` joined as node ``worker``."""
        import ray

        from asyncrl.backends.exchange import Exchanger
        from asyncrl.nets import build_network

        net = build_network(self.shape, self.actions, "actor_critic", server_config().net)
        joined = ray.get([shard.join.remote(worker) for shard in self.shards])
        return Exchanger(list(net.parameters()), [], self.slices, self.dtype, joined)

    def message(self, params: int, seed: int) -> list[np.ndarray]:
        """A node's change of theta since its last exchange, sliced per shard, as it travels."""
        from asyncrl.backends.exchange import encode

        delta = random_change(params, seed)
        return [encode(delta[s], self.dtype) for s in self.slices]

    def connect(self, worker: int) -> list | None:
        """A client's connections to the shards (tcp), made in the client's process."""
        from asyncrl.backends.exchange import wire_dtype
        from asyncrl.backends.link import ShardLink

        if self.transport != "tcp":
            return None
        return [ShardLink(a, self.secret, wire_dtype(self.dtype), 60) for a in self.addresses]

    def call(self, wires: list[np.ndarray], worker: int, links: list | None):
        from asyncrl.backends.link import send_all

        if links is None:
            return [shard.exchange.remote(worker, wire, 20 if i == 0 else 0)
                    for i, (shard, wire) in enumerate(zip(self.shards, wires, strict=True))]
        send_all(links, worker, wires, 20, None)
        return links

    def wait(self, pending: list, timeout: float | None) -> list:
        if self.addresses is None:
            return ray_wait(pending, timeout)
        return [link.receive() for link in pending]  # an exchanger waits for its exchange: no timeout

    def close(self) -> None:
        import ray

        for shard in self.shards:
            ray.kill(shard)


TARGETS = {"push": PushTarget, "exchange": ExchangeTarget}


class Client:
    """A synthetic learner, or a node's exchanger: sends on a schedule, at most ``max_in_flight`` calls
    open, fetches each reply. Against the exchange target it does a node's own work too: it forms its
    change from a network of the real size and applies the answer to it (``target.node``), so its CPU
    per exchange is what a node group's exchanger spends."""

    def __init__(self, worker: int, message, target=None):
        self.worker = worker
        self.grad = message
        self.node = target.node(worker) if target is not None and hasattr(target, "node") else None
        self.connection = target.connect(worker) if target is not None else None
        self.cpu: list[tuple[float, float, int]] = []  # (time, process CPU, calls answered) at each answer

    def warmup(self, target, calls: int) -> None:
        """A few calls, one at a time: the first ones pay for connections and the server's first touches."""
        for _ in range(calls):
            target.wait(target.call(self.grad, self.worker, self.connection), None)

    def run(self, target, rate: float, t0: float, seconds: float, phase: float, max_in_flight: int) -> dict:
        interval = 1.0 / rate
        scheduled = int(seconds * rate)
        end = t0 + seconds
        open_calls: dict = {}  # a call's number -> (what it waits on, send time)
        latencies: list[float] = []
        in_window = late = 0
        lag: list[float] = []  # how far behind its schedule each send went
        started_late = max(0.0, time.time() - t0)  # > 0: the schedule began before this call did

        def take(timeout: float | None) -> bool:
            nonlocal in_window
            oldest = next(iter(open_calls))
            pending, sent = open_calls[oldest]
            replies = target.wait(pending, timeout)  # a learner reads theta out of the reply
            if replies is None:
                return False
            if self.node is not None:
                self.node.receive([r[0] for r in replies], None)
            now = time.time()
            del open_calls[oldest]
            latencies.append(now - sent)
            in_window += now <= end
            return True

        cpu_start = cpu_end = None
        for k in range(scheduled):
            due = t0 + phase + k * interval
            if cpu_start is None and time.time() >= t0:
                cpu_start = (time.process_time(), in_window)
            while open_calls and due - time.time() > 0 and take(due - time.time()):
                pass
            if len(open_calls) >= max_in_flight:  # as a learner: wait for an answer before sending more
                late += 1
                take(None)
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            lag.append(max(0.0, -pause))
            pending = target.call(self.node.send()[0] if self.node is not None else self.grad, self.worker,
                                  self.connection)
            open_calls[k] = (pending, time.time())
            if cpu_end is None and time.time() >= end:
                cpu_end = (time.process_time(), in_window)
        while open_calls:
            take(None)
        if cpu_end is None:
            cpu_end = (time.process_time(), in_window)
        answered = cpu_end[1] - cpu_start[1] if cpu_start else 0
        client_cpu = (cpu_end[0] - cpu_start[0]) / answered if answered else None
        return {"client_cpu_per_call_s": client_cpu, "sent": scheduled, "answered_in_window": in_window, "late": late, "started_late": started_late,
                "latencies": latencies, "send_lag_p99": float(np.percentile(lag, 99)) if lag else 0.0}


# --- the cluster --------------------------------------------------------------------------------

class LocalCluster:
    """The cluster the measurement runs on, shut down by ``close``. One node: a Ray instance of this
    script's own (``ray.init``, its own temp dir and ports). ``nodes`` > 1: that many Ray nodes on
    this machine (``nodes.LoopbackCluster``: ``ray start`` each, token authentication on), the server
    alone on the head and the clients spread over the others, so every argument and reply crosses
    between two nodes' object stores (or, over ``--transport tcp``, two nodes' sockets) as between
    machines, but over loopback and on the same cores."""

    def __init__(self, nodes: int, clients: int):
        self.loopback = None
        self.server_options: dict = {}
        self.client_options: list[dict] = [{} for _ in range(clients)]
        if nodes == 1:
            import ray

            self.temp_dir = tempfile.mkdtemp(prefix="rayps", dir="/tmp")  # short: Ray's socket paths live under it
            ray.init(num_cpus=os.cpu_count() or 1, object_store_memory=200 * 1024**2, _temp_dir=self.temp_dir,
                     include_dashboard=False, log_to_driver=False, logging_level="ERROR", namespace="ps_load")
            return
        from nodes import LoopbackCluster

        self.temp_dir = None
        self.loopback = LoopbackCluster(nodes, cpus=1)
        # Ray reads its authentication settings when first imported: set them before.
        assert "ray" not in sys.modules, "the driver must not import ray before the cluster's token is set"
        os.environ.update({k: self.loopback.env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")})
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        ray.init(address=self.loopback.address, log_to_driver=False, logging_level="ERROR", namespace="ps_load")
        alive = [n for n in ray.nodes() if n.get("Alive")]
        head = next(n["NodeID"] for n in alive if "node:__internal_head__" in n["Resources"])
        others = [n["NodeID"] for n in alive if n["NodeID"] != head]
        self.server_options = {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=head, soft=False)}
        self.client_options = [{"scheduling_strategy": NodeAffinitySchedulingStrategy(
            node_id=others[i % len(others)], soft=False)} for i in range(clients)]

    def close(self) -> None:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        if self.loopback is not None:
            self.loopback.close()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


# --- one measurement ----------------------------------------------------------------------------

def cpu_delta(before: dict, after: dict) -> dict:
    calls = after["calls"] - before["calls"]
    wall = after["time"] - before["time"]
    call_threads = set(after["call_threads"])
    threads = {tid: cpu - before["threads"].get(tid, 0.0) for tid, cpu in after["threads"].items()}
    by_name: dict[str, float] = {}
    for tid, cpu in threads.items():
        name = "executor (ran calls)" if tid in call_threads else after["names"][tid]
        by_name[name] = by_name.get(name, 0.0) + cpu
    return {"calls": calls, "seconds": wall,
            "in_call_cpu": after["in_call_cpu"] - before["in_call_cpu"],
            "in_call_wall": after["in_call_wall"] - before["in_call_wall"],
            "process_cpu": after["process_cpu"] - before["process_cpu"],
            "call_threads_cpu": sum(threads[t] for t in call_threads if t in threads),
            "threads_cpu": {k: round(v, 3) for k, v in sorted(by_name.items(), key=lambda kv: -kv[1]) if v > 0}}


def merged(deltas: list[dict]) -> dict:
    """The server's cost summed over its actors (the shards); an exchange is one call to each."""
    out = dict(deltas[0])
    for key in ("in_call_cpu", "in_call_wall", "process_cpu", "call_threads_cpu"):
        out[key] = sum(d[key] for d in deltas)
    out["calls"] = deltas[0]["calls"]  # every exchange calls every shard once
    out["threads_cpu"] = {}
    for d in deltas:
        for name, cpu in d["threads_cpu"].items():
            out["threads_cpu"][name] = round(out["threads_cpu"].get(name, 0.0) + cpu, 3)
    return out


def measure(target, clients: list, rate: float, seconds: float, warmup: int, idle_cpu_rate: float) -> dict:
    import ray

    ray.get([c.warmup.remote(target, warmup) for c in clients])
    per_client = rate / len(clients)
    t0 = time.time() + 0.5  # every client has its call queued and waits for its first due time
    refs = [c.run.remote(target, per_client, t0, seconds, i / rate, target.max_in_flight)
            for i, c in enumerate(clients)]
    time.sleep(max(0.0, t0 - time.time()))
    before = target.sample()
    time.sleep(max(0.0, t0 + seconds - time.time()))
    after = target.sample()
    results = ray.get(refs)
    server = merged([cpu_delta(b, a) for b, a in zip(before, after, strict=True)])
    latencies = sorted(x for r in results for x in r["latencies"])
    calls = max(server["calls"], 1)
    process = max(0.0, server["process_cpu"] - idle_cpu_rate * server["seconds"])
    per_call = {"in_call": server["in_call_cpu"] / calls, "threads": server["call_threads_cpu"] / calls,
                "process": process / calls}
    return {
        "offered": rate,
        "achieved": sum(r["answered_in_window"] for r in results) / seconds,
        "sent": sum(r["sent"] for r in results),
        "late": sum(r["late"] for r in results),
        "p50_ms": 1e3 * float(np.percentile(latencies, 50)) if latencies else None,
        "p99_ms": 1e3 * float(np.percentile(latencies, 99)) if latencies else None,
        "max_ms": 1e3 * latencies[-1] if latencies else None,
        "send_lag_p99_ms": 1e3 * max(r["send_lag_p99"] for r in results),
        "clients_started_late_s": max(r["started_late"] for r in results),
        "server_calls_in_window": server["calls"],
        # A client's own CPU per call: a node's exchanger forming its change and applying the answer.
        "client_cpu_per_call_s": statistics.median(r["client_cpu_per_call_s"] for r in results
                                                   if r["client_cpu_per_call_s"] is not None)
        if any(r["client_cpu_per_call_s"] is not None for r in results) else None,
        "server_cpu_per_call_s": per_call,
        "server_wall_per_call_s": server["in_call_wall"] / calls,
        "server_process_cpu_share": process / server["seconds"],  # cores the server kept busy
        "per_core_rate": 1.0 / per_call["process"] if per_call["process"] > 0 else None,
        "server_threads_cpu_s": server["threads_cpu"],
    }


def median_row(rows: list[dict]) -> dict:
    def med(key, sub=None):
        values = [r[key][sub] if sub else r[key] for r in rows]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    return {"offered": rows[0]["offered"], "achieved": med("achieved"), "p50_ms": med("p50_ms"),
            "p99_ms": med("p99_ms"), "late": med("late"), "sent": med("sent"),
            "cpu_in_call_ms": 1e3 * med("server_cpu_per_call_s", "in_call"),
            "cpu_threads_ms": 1e3 * med("server_cpu_per_call_s", "threads"),
            "cpu_process_ms": 1e3 * med("server_cpu_per_call_s", "process"),
            "server_cores": med("server_process_cpu_share"), "per_core_rate": med("per_core_rate"),
            "client_cpu_ms": 1e3 * c if (c := med("client_cpu_per_call_s")) is not None else None}


def versions() -> dict:
    import ray
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"description": machine(), "cores": os.cpu_count(), "cpu": cpu,
            "python": platform.python_version(), "ray": ray.__version__, "torch": torch.__version__,
            "numpy": np.__version__}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=sorted(TARGETS), default="push",
                        help="push: the per-learner layout's ParameterServer.push; exchange: the node "
                             "groups' sharded parameter service, a client being a node's exchanger")
    parser.add_argument("--shards", type=int, default=1, help="--target exchange: shards theta is split over")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32",
                        help="--target exchange: what the changes travel as")
    parser.add_argument("--transport", choices=("tcp", "ray"), default="tcp",
                        help="--target exchange: tcp, the node groups' own connections to the shards; ray, "
                             "an actor call per shard")
    parser.add_argument("--clients", type=int, default=2, help="synthetic learners (Ray actors)")
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 25, 50, 100, 200],
                        help="offered total calls per second, over all clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window per rate")
    parser.add_argument("--repeats", type=int, default=1, help="sweeps, interleaved; the table is their median")
    parser.add_argument("--warmup", type=int, default=3, help="calls per client before each window")
    parser.add_argument("--params", type=int, default=None,
                        help="an MLP of about this many parameters instead of the Atari A3C network")
    parser.add_argument("--nodes", type=int, default=1,
                        help="1: one local Ray instance; more: that many Ray nodes on this machine (loopback), "
                             "the server alone on the head, the clients on the others")
    parser.add_argument("--json", type=Path, default=None, help="write everything here")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.nodes < 1 or args.repeats < 1 or min(args.rates) <= 0:
        parser.error("--clients, --nodes, --repeats and --rates must be positive")

    shape, actions = network_spec(args.params)
    params = count_params(shape, actions)
    print(f"{args.target}: {args.clients} clients, {params:,} parameters ({4 * params / 1e6:.2f} MB each way), "
          f"{args.nodes} node(s); {machine()}", flush=True)

    cluster = LocalCluster(args.nodes, args.clients)  # before importing ray: it may set Ray's token
    import ray

    runs: dict[float, list[dict]] = {rate: [] for rate in args.rates}
    try:
        options = ({"shards": args.shards, "dtype": args.dtype, "transport": args.transport}
                   if args.target == "exchange" else {})
        target = TARGETS[args.target](args.clients, shape, actions, cluster.server_options, **options)
        client_cls = ray.remote(num_cpus=0)(Client)
        clients = [client_cls.options(**cluster.client_options[i]).remote(i, target.message(params, i), target)
                   for i in range(args.clients)]
        ray.get([c.__ray_ready__.remote() for c in clients])
        idle = [target.sample()]
        time.sleep(3.0)
        idle.append(target.sample())
        idle_rate = sum(b["process_cpu"] - a["process_cpu"] for a, b in zip(*idle, strict=True)) / (
            idle[1][0]["time"] - idle[0][0]["time"])
        print(f"server idle: {idle_rate:.3f} CPU s/s", flush=True)
        for repeat in range(args.repeats):
            for rate in args.rates:
                row = measure(target, clients, rate, args.seconds, args.warmup, idle_rate)
                runs[rate].append(row)
                print(f"repeat {repeat + 1}/{args.repeats} offered {rate:>7g}/s: achieved {row['achieved']:7.1f}/s, "
                      f"p50 {row['p50_ms']:7.1f} ms, p99 {row['p99_ms']:7.1f} ms, late {row['late']:>4}, "
                      f"server CPU/call {1e3 * row['server_cpu_per_call_s']['process']:.2f} ms "
                      f"(in call {1e3 * row['server_cpu_per_call_s']['in_call']:.2f}, threads "
                      f"{1e3 * row['server_cpu_per_call_s']['threads']:.2f})", flush=True)
        target.close()
        env = versions()
    finally:
        cluster.close()

    table = [median_row(rows) for rows in runs.values()]
    where = f", {args.shards} shard(s), {args.dtype}, {args.transport}" if args.target == "exchange" else ""
    print(f"\n{args.target}{where}, {params:,} parameters, {args.clients} clients, {args.nodes} node(s), "
          f"{args.seconds:g} s per rate, median of {args.repeats}; {machine()}, Ray {env['ray']}, torch {env['torch']}\n")
    unit = "push" if args.target == "push" else "exchange"
    print(f"| offered /s | achieved /s | p50 ms | p99 ms | late sends | server CPU per {unit}, ms: in call / "
          f"executor threads / process | server cores busy | {unit}s/s per core |")
    print("|---|---|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['offered']:g} | {r['achieved']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['late']:g} "
              f"| {r['cpu_in_call_ms']:.2f} / {r['cpu_threads_ms']:.2f} / {r['cpu_process_ms']:.2f} "
              f"| {r['server_cores']:.2f} | {r['per_core_rate'] or 0:,.0f} |")
    if args.target == "exchange":
        print("\nthe node's exchanger, CPU per exchange (forming its change, applying the answer; ms): "
              + ", ".join(f"{r['offered']:g}/s {r['client_cpu_ms']:.2f}" for r in table if r["client_cpu_ms"]))
    busy = [r for r in table if r["cpu_process_ms"] and r["achieved"] >= 0.5 * r["offered"]]
    if busy:
        cost = statistics.median(r["cpu_process_ms"] for r in busy)
        print(f"\nserver CPU per {unit} (median over rates): {cost:.2f} ms -> {1e3 / cost:,.0f} {unit}s/s per core")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "command": [Path(sys.executable).name, *sys.argv], "target": args.target, "params": params,
            **({"shards": args.shards, "dtype": args.dtype, "transport": args.transport}
               if args.target == "exchange" else {}),
            "bytes_each_way": 4 * params, "clients": args.clients, "nodes": args.nodes, "seconds": args.seconds,
            "repeats": args.repeats, "warmup": args.warmup, "max_in_flight": target.max_in_flight,
            "machine": env, "idle_server_cpu_per_second": idle_rate, "table": table,
            "runs": {str(rate): rows for rate, rows in runs.items()}}, indent=2))


if __name__ == "__main__":
    main()
