"""The node groups' exchange with the sharded parameter service, without Ray: nodes and shards in
one process, calls made directly, so every interleaving is chosen by the test; or over the
exchange's own TCP connections (``link``), as the node groups make them."""

import itertools

import numpy as np
import pytest
import torch

from asyncrl.backends.exchange import (
    Exchanger,
    ParameterShard,
    additive_stats,
    flat_params,
    set_stats,
    shard_slices,
    wire_dtype,
)
from asyncrl.backends.link import ShardLink, send_all
from asyncrl.nets import ObsNorm

SECRET = bytes(range(32))

SIZE = 1000


@pytest.mark.parametrize("size,shards", [(1000, 1), (1000, 3), (7, 4), (678_000, 4)])
def test_shard_slices_cover_the_parameters_in_near_equal_contiguous_parts(size, shards):
    slices = shard_slices(size, shards)
    assert len(slices) == shards and slices[0].start == 0 and slices[-1].stop == size
    assert all(a.stop == b.start for a, b in itertools.pairwise(slices))
    lengths = [s.stop - s.start for s in slices]
    assert max(lengths) - min(lengths) <= 1


def test_no_shards_is_an_error():
    with pytest.raises(ValueError):
        shard_slices(10, 0)


class Node:
    """A node's theta (what its learners update) and its exchanger, against in-process shards."""

    def __init__(self, name: int, shards: list[ParameterShard], slices, dtype: str, tcp: bool = False):
        self.name, self.shards = name, shards
        self.links = [ShardLink(s.server.address, SECRET, wire_dtype(dtype), 30) for s in shards] if tcp else None
        self.theta = [torch.zeros(600), torch.zeros(20, 20)]
        self.exchanger = Exchanger(self.theta, [], slices, dtype, [s.join(name) for s in shards])
        self.made = torch.zeros(SIZE)  # every update its learners made

    def learn(self, rng: np.random.Generator, scale: float = 1e-2) -> None:
        update = torch.from_numpy(rng.normal(0, scale, SIZE).astype(np.float32))
        self.theta[0].add_(update[:600])
        self.theta[1].add_(update[600:].view(20, 20))
        self.made += update

    def send(self):
        wires, _ = self.exchanger.send()
        if self.links is not None:  # the shards answer in their own threads; the replies wait in the socket
            send_all(self.links, self.name, wires, 10, None)
            return None
        return [s.exchange(self.name, w, frames=10) for s, w in zip(self.shards, wires)]

    def receive(self, replies) -> None:
        if self.links is not None:
            replies = [link.receive() for link in self.links]
        self.exchanger.receive([r[0] for r in replies], None)

    def flat(self) -> np.ndarray:
        return flat_params(self.theta)


def _service(dtype: str, shards: int = 2, target_update: int = 10**9, tcp: bool = False):
    start = np.random.default_rng(0).normal(0, 1, SIZE).astype(np.float32)
    slices = shard_slices(SIZE, shards)
    service = [ParameterShard(start[s], start[s], None, 0, target_update, dtype) for s in slices]
    if tcp:
        for shard in service:
            shard.serve(SECRET, "127.0.0.1")
    return start, slices, service


def _global(service) -> np.ndarray:
    return np.concatenate([s.snapshot()[0] for s in service])


@pytest.mark.parametrize("tcp", [False, True], ids=["direct", "tcp"])
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_every_update_of_every_node_reaches_the_global_theta_and_every_node(dtype, tcp):
    """Three nodes learn, and keep learning while their exchanges are under way; in the end the
    global theta is the start plus every update made anywhere, and each node has it."""
    start, slices, service = _service(dtype, tcp=tcp)
    rng = np.random.default_rng(1)
    nodes = [Node(i, service, slices, dtype, tcp) for i in range(3)]
    assert all(np.array_equal(n.flat(), start) for n in nodes)
    for _ in range(30):
        for node in rng.permutation(nodes):
            node.learn(rng)
            replies = node.send()
            node.learn(rng)  # while its exchange is under way: kept, and sent with the next one
            nodes[int(rng.integers(3))].learn(rng)
            node.receive(replies)
    for _ in range(3 if dtype == "fp32" else 12):  # quiet rounds: what is in flight or left by rounding arrives
        for node in nodes:
            node.receive(node.send())
    expected = start + sum(n.made for n in nodes).numpy()
    tolerance = 1e-5 if dtype == "fp32" else 1e-3
    np.testing.assert_allclose(_global(service), expected, atol=tolerance)
    for node in nodes:
        np.testing.assert_allclose(node.flat(), expected, atol=tolerance)


def test_bf16_halves_the_bytes_and_carries_its_rounding_into_the_next_exchange():
    start, slices, service = _service("bf16", shards=1)
    node = Node(0, service, slices, "bf16")
    node.learn(np.random.default_rng(5))
    wires, _ = node.exchanger.send()
    assert wires[0].nbytes == 2 * SIZE
    node.receive([service[0].exchange(0, wires[0], 0)])
    error = np.abs(_global(service) - start - node.made.numpy())
    assert error.max() > 1e-6  # one exchange rounds the update to bf16's 8 bits...
    for _ in range(10):
        node.receive(node.send())
    # ...and what it left out goes with the next ones: the sum converges to what was made.
    np.testing.assert_allclose(_global(service) - start, node.made.numpy(), atol=1e-6)


def test_a_node_that_rejoins_starts_from_the_global_theta_and_its_unsent_updates_are_lost_once():
    start, slices, service = _service("fp32")
    rng = np.random.default_rng(2)
    a, b = Node(0, service, slices, "fp32"), Node(1, service, slices, "fp32")
    a.learn(rng)
    a.receive(a.send())
    b.learn(rng)  # never sent: its node is lost
    b = Node(1, service, slices, "fp32")
    np.testing.assert_allclose(b.flat(), start + a.made.numpy(), atol=1e-6)
    b.learn(rng)
    b.receive(b.send())
    a.receive(a.send())
    expected = start + (a.made + b.made).numpy()
    for node in (a, b):
        np.testing.assert_allclose(node.flat(), expected, atol=1e-5)


def test_the_first_shard_counts_frames_and_copies_theta_minus_on_the_exact_global_count():
    start, slices, service = _service("fp32", shards=2, target_update=25)
    node = Node(0, service, slices, "fp32")
    node.learn(np.random.default_rng(3))
    wires, _ = node.exchanger.send()
    first = service[0].exchange(0, wires[0], frames=20)
    assert first[2] == 20 and first[4] == 0  # T = 20: no target update yet
    second = service[0].exchange(0, np.zeros_like(wires[0]), frames=10)
    assert second[2] == 30 and second[4] == 1  # T passed 25
    np.testing.assert_array_equal(service[0].target_slice(1), service[0].snapshot()[0])
    # The other shards copy when first asked for the new version.
    service[1].exchange(0, wires[1])
    np.testing.assert_array_equal(service[1].target_slice(1), service[1].snapshot()[0])
    assert not np.array_equal(service[1].target_slice(1), start[slices[1]])


def test_observation_statistics_as_sums_merge_across_nodes_as_one_running_statistic():
    rng = np.random.default_rng(4)
    batches = [torch.from_numpy(rng.normal(3, 2, (50, 5))) for _ in range(6)]
    one, node_a, node_b, merged = ObsNorm(5), ObsNorm(5), ObsNorm(5), ObsNorm(5)
    for i, batch in enumerate(batches):
        one.update(batch)
        (node_a if i % 2 else node_b).update(batch)
    fresh = additive_stats([ObsNorm(5)])
    set_stats([merged], additive_stats([node_a]) + additive_stats([node_b]) - fresh)
    for key in ("count", "mean", "var"):
        torch.testing.assert_close(getattr(merged, key), getattr(one, key))
    set_stats([merged], fresh)  # no observations: mean 0 and variance 1, as a new network
    assert merged.count.item() == 0 and merged.var.eq(1).all() and merged.mean.eq(0).all()


def test_a_connection_without_the_runs_secret_changes_nothing():
    """The shards listen on a port anything on the network can reach: only the run's nodes add to theta."""
    start, slices, service = _service("fp32", shards=1, tcp=True)
    intruder = ShardLink(service[0].server.address, bytes(32), np.float32, 30)
    with pytest.raises(OSError):  # the shard hangs up: at the send, or at the latest at the answer
        intruder.send(0, np.ones(SIZE, dtype=np.float32), 10**6, None)
        intruder.receive()
    np.testing.assert_array_equal(_global(service), start)
    assert service[0].status()[0] == 0
    node = Node(1, service, slices, "fp32", tcp=True)  # the shard still serves the run's nodes
    node.learn(np.random.default_rng(3))
    node.receive(node.send())
    np.testing.assert_allclose(_global(service), start + node.made.numpy(), atol=1e-6)
