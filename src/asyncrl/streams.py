"""Standard output that can fail without stopping the work: a closed pipe, a full disk, a lost terminal.

``asyncrl train ... | head`` closes the pipe after one line; ``> /dev/full`` fails every write; a
closed terminal turns writes into EIO. None of these is a reason to stop training or to lose what
was trained, so the commands write through :class:`LossyStream`: once its file fails, output is
dropped (the file descriptor is pointed at /dev/null, so that nothing buffered fails again at
exit) and the command goes on to its end.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Iterator


class LossyStream(io.TextIOBase):
    """A text stream over ``stream`` that drops output, instead of raising, once writing fails."""

    def __init__(self, stream):
        self._stream = stream
        self.lost: OSError | None = None  # why output stopped, once it has

    def _fail(self, exc: OSError) -> None:
        self.lost = exc
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def write(self, text: str) -> int:
        if self.lost is None:
            try:
                try:
                    self._stream.write(text)
                except UnicodeEncodeError:  # a path that is not valid UTF-8, say: show it escaped
                    encoding = self._stream.encoding or "utf-8"
                    self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
                if self.line_buffering and "\n" in text:
                    self._stream.flush()
            except OSError as exc:
                self._fail(exc)
        return len(text)

    def flush(self) -> None:
        if self.lost is None:
            try:
                self._stream.flush()
            except OSError as exc:
                self._fail(exc)

    def isatty(self) -> bool:
        try:
            return self.lost is None and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return self._stream.encoding

    @property
    def errors(self) -> str | None:
        return self._stream.errors

    @property
    def line_buffering(self) -> bool:
        return getattr(self._stream, "line_buffering", False)


def _reopen_closed_std_fds() -> None:
    """Point a closed fd 0, 1 or 2 at /dev/null: else the next file opened (a checkpoint) would take
    its number, and anything a child process writes to it would land in that file."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)


def lost_output_note(stream: LossyStream, name: str) -> str | None:
    """One line saying that ``name``'s output was lost, or None if it was not (or the reader closed
    the pipe, which is the reader's choice, as ``head`` does)."""
    if stream.lost is None or stream.lost.errno == errno.EPIPE:
        return None
    return f"{name} could not be written ({stream.lost.strerror or stream.lost}); the output after that was dropped"


@contextlib.contextmanager
def lossy_std_streams() -> Iterator[tuple[LossyStream | None, LossyStream | None]]:
    """sys.stdout and sys.stderr as :class:`LossyStream` while the block runs."""
    _reopen_closed_std_fds()
    saved = sys.stdout, sys.stderr
    out = LossyStream(sys.stdout) if sys.stdout is not None else None
    err = LossyStream(sys.stderr) if sys.stderr is not None else None
    sys.stdout, sys.stderr = out or sys.stdout, err or sys.stderr
    try:
        yield out, err
    finally:
        for stream in (out, err):
            if stream is not None:
                stream.flush()
        sys.stdout, sys.stderr = saved
