"""The local backend: Hogwild learners as torch.multiprocessing processes on one machine.

Who owns what:
  main process   the shared network theta and RMSProp statistics (shared memory, created here),
                 the frame counters, the stop flag and the event queue; it records the run.
  learner i      its own environment, local network theta' and seed; it reads theta, and writes
                 theta, the statistics and its own frame counter without locks (``LocalShared``).

The global frame counter T is the sum of one counter per learner (slot 0 holds the frames of
earlier sessions of a resumed run): no lock, so a learner that dies can never leave one held.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import traceback
from collections.abc import Sequence
from multiprocessing import resource_tracker

import torch
import torch.multiprocessing as mp

from asyncrl.backends import RestartBudget
from asyncrl.config import TrainConfig
from asyncrl.learner import learner_seed, run_learner
from asyncrl.nets import Network
from asyncrl.optim import SharedRMSprop
from asyncrl.signals import ignored_in_children, unblock_in_child
from asyncrl.streams import LossyStream


class LocalShared:
    """A learner's view of the shared state, inside the learner process."""

    def __init__(self, slot: int, shared_net: Network, target_net: Network | None,
                 square_avg: list[torch.Tensor], config: TrainConfig, frame_counts: torch.Tensor,
                 stop_flag: torch.Tensor, events, parent_pid: int, updates_target: bool = True):
        self.slot = slot
        self.shared_net = shared_net
        self.shared_params = list(shared_net.parameters())
        # Parameters, then buffers (the observation and return statistics, when the network normalises).
        self.shared_tensors = self.shared_params + list(shared_net.buffers())
        self.target_net = target_net
        self.optimizer = SharedRMSprop(self.shared_params, config.optim.rms_alpha, config.optim.rms_eps,
                                       square_avg=square_avg)
        self.frame_counts = frame_counts
        self.stop_flag = stop_flag
        self.events = events
        self.parent_pid = parent_pid
        self.updates_target = updates_target

    @torch.no_grad()
    def pull(self, tensors: Sequence[torch.Tensor]) -> None:
        for local, shared in zip(tensors, self.shared_tensors, strict=True):
            local.copy_(shared)

    def observe(self, obs: torch.Tensor) -> None:
        self.shared_net.obs_norm.update(obs)  # in place, in shared memory, lock-free

    def observe_returns(self, returns: torch.Tensor) -> None:
        self.shared_net.reward_norm.update(returns)

    def push(self, grads: Sequence[torch.Tensor], lr: float, measure: bool = False) -> float | None:
        return self.optimizer.step(grads, lr, measure)

    def target_network(self) -> Network | None:
        return self.target_net

    @torch.no_grad()
    def update_target(self) -> None:
        if not self.updates_target:  # a node group's: the parameter service updates theta- on the global T
            return
        target_tensors = list(self.target_net.parameters()) + list(self.target_net.buffers())
        for target, shared in zip(target_tensors, self.shared_tensors, strict=True):
            target.copy_(shared)

    def add_frames(self, n: int) -> int:
        self.frame_counts[self.slot] += n
        return int(self.frame_counts.sum())

    def should_stop(self) -> bool:
        # A learner whose trainer is gone (killed outright) stops instead of running on as an orphan.
        return bool(self.stop_flag[0]) or os.getppid() != self.parent_pid

    def report(self, kind: str, worker: int, payload: dict) -> None:
        self.events.put((kind, worker, payload))


def _describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _learner_main(worker, slot, config, shared_net, target_net, square_avg, frame_counts, stop_flag, events,
                  parent_pid, seed, updates_target):
    # Ctrl-C and a closed terminal reach the whole process group; the trainer decides when learners
    # stop. (They were started ignoring both, see LocalBackend._launch; this keeps it so.)
    unblock_in_child()
    # A learner's stray output (a library's warning) must not kill it when the trainer's stdout is gone.
    sys.stdout, sys.stderr = (LossyStream(s) if s is not None else s for s in (sys.stdout, sys.stderr))
    shared = LocalShared(slot, shared_net, target_net, square_avg, config, frame_counts, stop_flag,
                         events, parent_pid, updates_target)
    try:
        run_learner(worker, config, shared, seed)
    except BaseException as exc:
        events.put(("error", worker, {"message": f"{type(exc).__name__}: {exc}",
                                      "traceback": traceback.format_exc()}))
        raise SystemExit(1) from exc


class LocalBackend:
    """Starts ``config.run.workers`` learner processes around shared-memory parameters.

    A node group of the Ray backend runs one for its share of the learners (``workers``, their
    numbers in the whole run); there the parameter service, not a learner, updates theta-
    (``learners_update_target=False``) and slot 0 of the frame counters holds the other nodes' frames.
    """

    def __init__(self, config: TrainConfig, net: Network, target_net: Network | None,
                 optimizer: SharedRMSprop, start_frames: int, workers: Sequence[int] | None = None,
                 learners_update_target: bool = True):
        self.config = config
        self.workers = list(range(config.run.workers)) if workers is None else list(workers)
        self.slots = {worker: i + 1 for i, worker in enumerate(self.workers)}
        self.learners_update_target = learners_update_target
        self.ctx = mp.get_context("spawn")  # fork would copy the parent's thread pools and locks
        # multiprocessing's resource tracker, a process of its own in the terminal's process group, is
        # started by the first queue: it ignores Ctrl-C itself, and must ignore a closed terminal too.
        with ignored_in_children():
            resource_tracker.ensure_running()
        self.net = net
        self.target_net = target_net.share_memory() if target_net is not None else None
        self.optimizer = optimizer.share_memory()
        self.net.share_memory()
        self.frame_counts = torch.zeros(len(self.workers) + 1, dtype=torch.int64).share_memory_()
        self.frame_counts[0] = start_frames
        self.stop_flag = torch.zeros(1, dtype=torch.int8).share_memory_()
        self.events = self.ctx.Queue()
        self.processes: dict[int, mp.Process] = {}
        self.restarts = RestartBudget()
        self.gave_up: set[int] = set()  # learners not restarted: the restart budget ran out
        self.causes: dict[int, str] = {}  # worker -> the exception it reported before exiting
        self.restarting = True  # False once the run is stopping: a learner that ends is not replaced

    def _launch(self, worker: int) -> mp.Process:
        # A restarted learner gets a fresh environment and a fresh seed (from T at its start).
        seed = learner_seed(self.config.run.seed, worker, self.frames())
        p = self.ctx.Process(
            target=_learner_main,
            args=(worker, self.slots[worker], self.config, self.net, self.target_net, self.optimizer.square_avg,
                  self.frame_counts, self.stop_flag, self.events, os.getpid(), seed, self.learners_update_target),
            name=f"asyncrl-learner-{worker}",
            daemon=True,
        )
        with ignored_in_children():  # else a Ctrl-C while it imports PyTorch kills it with a traceback
            p.start()
        return p

    def start(self) -> None:
        self.processes = {worker: self._launch(worker) for worker in self.workers}

    def frames(self) -> int:
        return int(self.frame_counts.sum())

    def _drain(self, timeout: float) -> list[tuple[str, int, dict]]:
        out = []
        try:
            out.append(self.events.get(timeout=timeout))
            while True:
                out.append(self.events.get_nowait())
        except queue.Empty:
            pass
        return out

    def _sort(self, events: list[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        """Keep a learner's "error" (its exception) until its exit is seen; pass the rest on."""
        for kind, worker, payload in events:
            if kind == "error":
                self.causes[worker] = payload["message"]
        return [e for e in events if e[0] != "error"]

    def poll(self, timeout: float) -> list[tuple[str, int, dict]]:
        """Events since the last poll (waiting up to ``timeout`` for the first); restarts dead learners.

        A learner that raised reports its exception before it exits; one killed from outside
        (SIGKILL, the out-of-memory killer) is known only by its exit code. Either way it is
        replaced, unless learners die too often (``RestartBudget``): then an "error" event
        tells the trainer to stop the run.
        """
        out = self._sort(self._drain(timeout))
        if self.stop_flag[0] or not self.restarting:
            return out  # stopping: learners that end now are not replaced
        for worker, p in self.processes.items():
            if p.exitcode is None or p.exitcode == 0 or worker in self.gave_up:
                continue
            if worker not in self.causes:  # its "error" event may still be in the queue
                out += self._sort(self._drain(0.2))
            cause = self.causes.pop(worker, None) or _describe_exit(p.exitcode)
            p.join()
            if self.restarts.allow():
                self.processes[worker] = self._launch(worker)
                out.append(("restarted", worker, {"cause": cause}))
            else:
                self.gave_up.add(worker)
                out.append(("error", worker, {"message": self.restarts.exhausted_message(cause)}))
        return out

    def running(self) -> int:
        return sum(p.is_alive() for p in self.processes.values())

    def progress(self) -> dict[int, int]:
        """Each running learner's frame counter, for the trainer's ``HangWatch``."""
        return {w: int(self.frame_counts[self.slots[w]]) for w, p in self.processes.items() if p.is_alive()}

    def kill_learner(self, worker: int, cause: str) -> None:
        """End a hung learner; the next ``poll`` restarts it with ``cause`` as its cause of death."""
        self.causes[worker] = cause
        self.processes[worker].kill()

    def hold_restarts(self) -> None:
        """No more restarts: the run is stopping. Only sets a flag, so a signal handler may call it."""
        self.restarting = False

    def request_stop(self) -> None:
        self.stop_flag[0] = 1

    def snapshot(self) -> dict:
        """A copy of the shared state for a checkpoint (taken while learners keep writing, as Hogwild reads)."""
        state = {
            "model": {k: v.clone() for k, v in self.net.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "frames": self.frames(),
        }
        if self.target_net is not None:
            state["target_model"] = {k: v.clone() for k, v in self.target_net.state_dict().items()}
        return state

    def stats(self) -> dict:
        return {}

    def close(self) -> None:
        """Nothing outlives ``shutdown`` here."""

    def shutdown(self, timeout: float = 10.0) -> list[tuple[str, int, dict]]:
        """Stop every learner, returning the events still queued; no process outlives this call.

        Learners get ``timeout`` seconds to finish their segment; a second Ctrl-C while they do
        (KeyboardInterrupt) ends the wait and they are terminated at once.
        """
        self.request_stop()
        pending = []
        try:
            for _ in range(int(timeout / 0.1)):
                pending += self.poll(0.1)  # drain, or learners block on a full queue pipe
                if not self.running():
                    break
        finally:
            for p in self.processes.values():
                if p.is_alive():
                    p.terminate()
            for p in self.processes.values():
                p.join(timeout=5)
                if p.is_alive():
                    p.kill()
                    p.join()
        pending += self.poll(0)
        return pending
