"""The exchange's own transport: a TCP connection from each node's exchanger to each shard.

An exchange moves theta's slice both ways, megabytes a few tens of times per second per node. As a
Ray actor call it goes through both object stores and Ray's per-call machinery, which cost a shard
more CPU than the exchange's own arithmetic (docs/distributed.md). Here the slices travel as raw
bytes straight into buffers each side reuses; Ray still starts the shards, tells the nodes where
they listen and carries every other call (join, theta-, status, checkpoints, stop).

A connection opens with the run's secret (32 random bytes the driver hands out through Ray), so
nothing else that reaches the port can add to theta. Then, per exchange:

    node -> shard   REQUEST  node, frames, the wire delta's bytes, the statistics' bytes (-1: none)
                    the wire delta (float32, or bf16 as int16), the statistics (float64)
    shard -> node   ANSWER   T, theta-'s version, stop, the answer's bytes, the statistics' bytes
                    the answer, the statistics
"""

from __future__ import annotations

import hmac
import socket
import struct
import threading
from collections.abc import Callable

import numpy as np

REQUEST = struct.Struct("<qqqq")  # node, frames, delta bytes, statistics bytes (-1: none)
ANSWER = struct.Struct("<qqqqq")  # T, target version, stop, answer bytes, statistics bytes (-1: none)
SECRET_BYTES = 32


def _recv_exact(sock: socket.socket, view: memoryview) -> None:
    while view:
        got = sock.recv_into(view)
        if not got:
            raise ConnectionResetError("the other side closed the connection")
        view = view[got:]


def _recv_array(sock: socket.socket, nbytes: int, dtype, buffers: dict) -> np.ndarray | None:
    """``nbytes`` of ``dtype`` into a buffer kept for that size (a fresh one per exchange would cost
    page faults on every call)."""
    if nbytes < 0:
        return None
    key = (nbytes, np.dtype(dtype).str)
    if key not in buffers:
        buffers[key] = np.empty(nbytes // np.dtype(dtype).itemsize, dtype=dtype)
    out = buffers[key]
    _recv_exact(sock, memoryview(out).cast("B"))
    return out


def _send(sock: socket.socket, header: bytes, *arrays: np.ndarray | None) -> None:
    sock.sendall(header)
    for a in arrays:
        if a is not None and a.nbytes:
            sock.sendall(memoryview(np.ascontiguousarray(a)).cast("B"))


def _nbytes(a: np.ndarray | None) -> int:
    return -1 if a is None else a.nbytes


class ShardServer:
    """Listens for nodes on ``host``; a thread per connection answers its exchanges with ``exchange``,
    called as ``exchange(node, wire, frames, stats) -> (answer, stats_answer, T, stop, version)``."""

    def __init__(self, exchange: Callable, wire_dtype, secret: bytes, host: str):
        self.exchange, self.wire_dtype, self.secret = exchange, np.dtype(wire_dtype), secret
        self.sock = socket.create_server((host, 0), backlog=128)
        self.address = (host, self.sock.getsockname()[1])
        threading.Thread(target=self._accept, name="asyncrl-shard-accept", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(conn,), name="asyncrl-shard-link", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffers: dict = {}
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                secret = bytearray(SECRET_BYTES)
                _recv_exact(conn, memoryview(secret))
                if not hmac.compare_digest(bytes(secret), self.secret):
                    return
                header = bytearray(REQUEST.size)
                while True:
                    _recv_exact(conn, memoryview(header))
                    node, frames, delta_bytes, stats_bytes = REQUEST.unpack(header)
                    wire = _recv_array(conn, delta_bytes, self.wire_dtype, buffers)
                    stats = _recv_array(conn, stats_bytes, np.float64, buffers)
                    answer, stats_answer, total, stop, version = self.exchange(node, wire, frames, stats)
                    _send(conn, ANSWER.pack(total, version, int(stop), answer.nbytes, _nbytes(stats_answer)),
                          answer, stats_answer)
            except OSError:  # the node is gone (its group restarts with a connection of its own)
                return

    def close(self) -> None:
        self.sock.close()


def send_all(links: list, node: int, wires: list[np.ndarray], frames: int, stats: np.ndarray | None) -> None:
    """One exchange's messages, each shard its slice; shard 0 also the node's new frames and its
    statistics. Sent to every shard before any answer is read, so the shards work at once."""
    for i, (link, wire) in enumerate(zip(links, wires, strict=True)):
        link.send(node, wire, frames if i == 0 else 0, stats if i == 0 else None)


class ShardLink:
    """A node's connection to one shard. ``send`` then ``receive`` is one exchange; a node sends to
    every shard before it receives from any, so the shards work on its exchange at once."""

    def __init__(self, address: tuple[str, int], secret: bytes, wire_dtype, timeout: float):
        self.wire_dtype = np.dtype(wire_dtype)
        self.sock = socket.create_connection(tuple(address), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(secret)
        self.buffers: dict = {}

    def send(self, node: int, wire: np.ndarray, frames: int, stats: np.ndarray | None) -> None:
        _send(self.sock, REQUEST.pack(node, frames, wire.nbytes, _nbytes(stats)), wire, stats)

    def receive(self) -> tuple:
        """(answer, stats_answer, T, stop, target version). The answer is this link's buffer, good
        until its next exchange."""
        header = bytearray(ANSWER.size)
        _recv_exact(self.sock, memoryview(header))
        total, version, stop, answer_bytes, stats_bytes = ANSWER.unpack(header)
        answer = _recv_array(self.sock, answer_bytes, self.wire_dtype, self.buffers)
        stats = _recv_array(self.sock, stats_bytes, np.float64, self.buffers)
        return answer, None if stats is None else stats.copy(), total, bool(stop), version  # a node keeps stats

    def close(self) -> None:
        self.sock.close()
