"""How a run is asked to stop from outside: Ctrl-C, ``kill``, a closed terminal.

The first SIGINT, SIGTERM or SIGHUP asks for a clean stop: the trainer finishes what it is doing,
stops the learners, writes a final checkpoint and ``summary.json``. A second SIGINT stops at once
(KeyboardInterrupt). A terminal sends Ctrl-C to the whole process group, learners included, so
learners are started ignoring SIGINT and SIGHUP (``ignored_in_children``): the trainer decides when
they stop.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Self

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# What the process group receives from a terminal that a learner must not act on by itself.
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGHUP)


class StopSignals:
    """Installs the stop handlers for the life of a ``with`` block (in the main thread only).

    Nested blocks share the outermost one: the CLI installs it before its slow imports, so that a
    Ctrl-C then is not lost, and ``train()`` installs it for callers of the Python API.
    """

    _active: StopSignals | None = None

    def __init__(self):
        self.received: int | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._previous: dict[int, object] = {}
        self._depth = 0

    def __enter__(self) -> Self:
        owner = StopSignals._active or self
        owner._depth += 1
        if owner is self and self._depth == 1:
            StopSignals._active = self
            if threading.current_thread() is threading.main_thread():
                for sig in STOP_SIGNALS:
                    # `nohup` ignores SIGHUP for a run meant to outlive its terminal: keep it so.
                    if sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN:
                        continue
                    self._previous[sig] = signal.signal(sig, self._handle)
        return owner

    def __exit__(self, *exc) -> None:
        owner = StopSignals._active or self
        owner._depth -= 1
        if owner._depth == 0:
            for sig, handler in owner._previous.items():
                signal.signal(sig, handler)
            owner._previous.clear()
            StopSignals._active = None

    def _handle(self, signum, frame) -> None:
        if self.received is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.received = signum
        for callback in self._callbacks:
            callback()

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` at the first stop signal (now, if one came already); it runs inside the
        signal handler, so it must only set a flag."""
        self._callbacks.append(callback)
        if self.received is not None:
            callback()

    @property
    def name(self) -> str:
        return signal.Signals(self.received).name if self.received is not None else ""


@contextlib.contextmanager
def ignored_in_children(signals=TERMINAL_SIGNALS) -> Iterator[None]:
    """Processes started inside the block ignore ``signals`` from their first instruction.

    A spawned learner spends seconds importing PyTorch before its own code could ignore Ctrl-C;
    the disposition SIG_IGN is inherited through fork and exec, and Python leaves an inherited
    ignored SIGINT alone. The signals are blocked meanwhile, so one that arrives is not lost to
    this process: Linux keeps a blocked signal pending even while it is ignored, and it is
    delivered to the restored handler at the end of the block.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def unblock_in_child(signals=TERMINAL_SIGNALS) -> None:
    """In a process started by :func:`ignored_in_children`: keep ignoring, stop blocking."""
    for sig in signals:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
