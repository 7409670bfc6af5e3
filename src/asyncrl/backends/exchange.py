"""The additive exchange between a node's Hogwild group and the sharded parameter service.

Across machines the paper's one theta becomes a global theta on the parameter service and one copy
per node, which the node's learners update exactly as on one machine (shared memory, lock-free,
shared RMSProp). A few tens of times per second each node's exchanger trades with the service:

    node:     delta <- theta_node - base            the node's learners' updates since last time
    service:  theta <- theta + delta                every node's updates add up, none overwrites another
              answers theta
    node:     c <- theta - base - delta             what the other nodes added since its last exchange
              theta_node <- theta_node + c          in place, while its learners go on writing
              base <- theta

Additive both ways: updates the node's learners make while an exchange is under way stay in
theta_node and go out with the next one, and the node never waits for it. With
``--exchange-dtype bf16`` both directions travel rounded to bf16: delta up, and down the others'
changes since the node's last exchange (the service keeps each node's ``base_n`` for it). What the
rounding left out stays in ``theta_node - base`` (or ``theta - base_n``) and goes with the next
exchange, so nothing is lost, only delayed (error feedback).

theta is split into contiguous slices over S shards (``shard_slices``); shard 0 also keeps the
global frame counter T, the stop flag, the target network's version and the observation and
return statistics (as sums, which add up across nodes as theta's changes do: ``additive_stats``).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence

import numpy as np
import torch

from asyncrl.nets import ObsNorm


def shard_slices(size: int, shards: int) -> list[slice]:
    """Split ``size`` parameters into ``shards`` contiguous slices of sizes differing by at most one."""
    if shards < 1:
        raise ValueError(f"shards must be positive, got {shards}")
    bounds = np.linspace(0, size, shards + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def encode(values: np.ndarray, dtype: str) -> np.ndarray:
    """What travels: float32 or float64 as is; bf16 as its 16 bits (numpy has no bfloat16)."""
    if dtype == "bf16":
        return torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).to(torch.bfloat16).view(
            torch.int16).numpy()
    return np.asarray(values, dtype=wire_dtype(dtype))


def wire_dtype(dtype: str) -> np.dtype:
    """The numpy type of what travels for ``dtype``."""
    return np.dtype({"bf16": np.int16, "fp64": np.float64}.get(dtype, np.float32))


def decode(wire: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "bf16":  # a bf16 is the top half of a float32 (numpy: Ray's arrays are read-only)
        return (wire.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    return wire


def flat_params(tensors: Sequence[torch.Tensor]) -> np.ndarray:
    """One float32 copy of the tensors, in order."""
    if not tensors:
        return np.zeros(0, dtype=np.float32)
    return torch.cat([t.detach().reshape(-1) for t in tensors]).numpy().astype(np.float32, copy=False)


def _pieces(tensors: Sequence[torch.Tensor], flat: np.ndarray):
    """(tensor, its part of ``flat`` shaped like it), in order."""
    offset = 0
    for t in tensors:
        n = t.numel()
        yield t, torch.from_numpy(flat[offset : offset + n]).view_as(t)
        offset += n


@torch.no_grad()
def set_flat(tensors: Sequence[torch.Tensor], flat: np.ndarray) -> None:
    for t, part in _pieces(tensors, flat):
        t.copy_(part)


@torch.no_grad()
def add_flat(tensors: Sequence[torch.Tensor], flat: np.ndarray) -> None:
    """tensors += flat, in place (the node's theta in shared memory, while its learners write it)."""
    for t, part in _pieces(tensors, flat):
        t.add_(part)


def norm_modules(net: torch.nn.Module) -> list[ObsNorm]:
    return [m for m in net.modules() if isinstance(m, ObsNorm)]


@torch.no_grad()
def additive_stats(norms: Sequence[ObsNorm]) -> np.ndarray:
    """The running statistics as sums (count, sum of x, sum of x^2), which add up across nodes."""
    parts = []
    for m in norms:
        n = m.count.reshape(1)
        parts += [n, n * m.mean, n * (m.var + m.mean.pow(2))]
    return torch.cat(parts).numpy() if parts else np.zeros(0)


@torch.no_grad()
def set_stats(norms: Sequence[ObsNorm], sums: np.ndarray) -> None:
    """The inverse of ``additive_stats``: no observations yet is mean 0, variance 1, as at the start."""
    offset = 0
    for m in norms:
        size = m.mean.numel()
        n = float(sums[offset])
        s1 = torch.from_numpy(sums[offset + 1 : offset + 1 + size])
        s2 = torch.from_numpy(sums[offset + 1 + size : offset + 1 + 2 * size])
        offset += 1 + 2 * size
        if n <= 0:
            m.count.zero_()
            m.mean.zero_()
            m.var.fill_(1.0)
            continue
        mean = s1 / n
        m.mean.copy_(mean)
        m.var.copy_((s2 / n - mean.pow(2)).clamp_(min=0.0))
        m.count.fill_(n)


class _Ledger:
    """The service's side of one quantity (a slice of theta, or the statistics). Exchanges add under a
    lock, so the sums are exact.

    At full precision the answer is the global value itself, and the node takes the others' changes
    as ``answer - base - delta``. Rounded (bf16), the answer is the others' changes since the node's
    last exchange, rounded, and the ledger keeps each node's ``base_n`` to carry what the rounding
    left out into the next answer."""

    def __init__(self, values: np.ndarray, dtype: str):
        self.values = np.array(values, copy=True)
        self.dtype = dtype
        self.full = dtype != "bf16"
        self.bases: dict[int, np.ndarray] = {}
        self.lock = threading.Lock()

    def join(self, node: int) -> np.ndarray:
        """A node (re)starts from the global value; whatever it had not sent yet is gone with it."""
        with self.lock:
            if not self.full:
                self.bases[node] = self.values.copy()
            return self.values.copy()

    def exchange(self, node: int, wire: np.ndarray) -> np.ndarray:
        delta = decode(wire, self.dtype)
        with self.lock:
            self.values += delta
            if self.full:
                return self.values.copy()
            base = self.bases[node]
            base += delta
            change = encode(self.values - base, self.dtype)
            base += decode(change, self.dtype)
        return change


class ParameterShard:
    """One slice of the global theta (and of theta-) on the parameter service; shard 0 also keeps T,
    the stop flag, the target network's version and the statistics. A threaded actor: each node's
    exchanges arrive over its own connection (``serve``, ``link``), answered at once, in a thread
    per node; the rest are Ray calls."""

    def __init__(self, theta: np.ndarray, target: np.ndarray | None, stats: np.ndarray | None,
                 frames: int, target_update: int, dtype: str):
        torch.set_num_threads(1)
        self.theta = _Ledger(theta, dtype)
        self.stats = _Ledger(stats, "fp64") if stats is not None else None
        self.target = None if target is None else np.array(target, copy=True)
        self.target_update = target_update
        self.frames = frames
        self.target_version = 0
        self.stop = False
        self.lock = threading.Lock()  # T, the stop flag, θ⁻ and the counters
        self.counters = {"exchanges": 0, "cpu_seconds": 0.0, "busy_seconds": 0.0, "bytes_in": 0, "bytes_out": 0}

    def join(self, node: int) -> tuple:
        stats = self.stats.join(node) if self.stats is not None else None
        return self.theta.join(node), stats, self.frames, self.stop, self.target_version

    def exchange(self, node: int, delta: np.ndarray, frames: int = 0, stats: np.ndarray | None = None) -> tuple:
        """Add a node's changes; answer with theta (bf16: the others' changes since the node's last
        exchange), T, the stop flag and the target network's version."""
        started, started_cpu = time.perf_counter(), time.thread_time()
        change = self.theta.exchange(node, delta)
        stats_change = self.stats.exchange(node, stats) if self.stats is not None and stats is not None else None
        with self.lock:
            before, self.frames = self.frames, self.frames + frames
            if self.target is not None and before // self.target_update < self.frames // self.target_update:
                self._copy_target(self.target_version + 1)  # T passed a multiple of I_target: θ⁻ ← θ
            c = self.counters
            c["exchanges"] += 1
            c["bytes_in"] += sum(a.nbytes for a in (delta, stats) if a is not None)
            c["bytes_out"] += sum(a.nbytes for a in (change, stats_change) if a is not None)
            c["cpu_seconds"] += time.thread_time() - started_cpu
            c["busy_seconds"] += time.perf_counter() - started
            return change, stats_change, self.frames, self.stop, self.target_version

    def _copy_target(self, version: int) -> None:
        with self.theta.lock:
            self.target[...] = self.theta.values
        self.target_version = version

    def target_slice(self, version: int) -> np.ndarray:
        """θ⁻'s slice as of ``version``: shard 0 copies θ on the exact T; the others when first asked
        for the new version, within one exchange of it."""
        with self.lock:
            if self.target_version < version:
                self._copy_target(version)
            return self.target.copy()

    def status(self) -> tuple[int, dict]:
        with self.lock:
            return self.frames, dict(self.counters)

    def request_stop(self) -> None:
        self.stop = True

    def serve(self, secret: bytes, host: str | None = None) -> tuple[str, int]:
        """Listen for the nodes' exchanges on this shard's node (``link``); answers where."""
        from asyncrl.backends.link import ShardServer

        if host is None:
            import ray

            host = ray.util.get_node_ip_address()
        self.server = ShardServer(self.exchange, wire_dtype(self.theta.dtype), secret, host)
        return self.server.address

    def snapshot(self) -> tuple:
        with self.theta.lock:
            theta = self.theta.values.copy()
        stats = None
        if self.stats is not None:
            with self.stats.lock:
                stats = self.stats.values.copy()
        with self.lock:
            target = None if self.target is None else self.target.copy()
            return theta, target, stats, self.frames


class Exchanger:
    """A node's side of the exchange: its theta (the shared tensors its learners update) and base.

    ``send()`` makes the messages for one exchange, one per shard; ``receive()`` takes the answers.
    Between the two the node's learners go on updating theta_node.
    """

    def __init__(self, params: Sequence[torch.Tensor], norms: Sequence[ObsNorm], slices: Sequence[slice],
                 dtype: str, joined: Sequence[tuple]):
        """``joined``: each shard's answer to ``join``, in order; theta_node and the statistics are
        set from it."""
        self.params, self.norms, self.slices, self.dtype = list(params), list(norms), list(slices), dtype
        self.base = np.concatenate([j[0] for j in joined]).astype(np.float32)
        set_flat(self.params, self.base)
        self.stats_base = joined[0][1]
        if self.stats_base is not None:
            set_stats(self.norms, self.stats_base)
        self.sent: list[np.ndarray] = []
        self.sent_stats: np.ndarray | None = None

    def send(self) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Each shard's wire delta, and the statistics' (None when the network has none)."""
        delta = flat_params(self.params) - self.base
        wires = [encode(delta[s], self.dtype) for s in self.slices]
        self.sent = [decode(w, self.dtype) for w in wires]
        self.sent_stats = None
        if self.stats_base is not None:
            self.sent_stats = additive_stats(self.norms) - self.stats_base
        return wires, self.sent_stats

    def receive(self, answers: Sequence[np.ndarray], stats_answer: np.ndarray | None) -> None:
        """Apply the other nodes' changes to theta_node (and the statistics')."""
        sent = np.concatenate(self.sent)
        if self.dtype == "bf16":  # the others' changes, rounded
            change = np.concatenate([decode(a, self.dtype) for a in answers]).astype(np.float32, copy=False)
            self.base += sent
            self.base += change
        else:  # the global theta
            glob = np.concatenate(answers).astype(np.float32, copy=False)
            change = glob - self.base - sent
            self.base = glob
        add_flat(self.params, change)
        if self.sent_stats is not None and stats_answer is not None:
            # The statistics as this node has them now (its learners' latest folded in), plus the others'.
            set_stats(self.norms, additive_stats(self.norms) + (stats_answer - self.stats_base - self.sent_stats))
            self.stats_base = stats_answer
