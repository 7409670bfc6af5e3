"""The actor-learner loop of the paper's pseudocode, written once for every algorithm and backend.

    repeat
        synchronise the local parameters theta' <- theta                  (shared.pull)
        act for up to t_max steps or until a terminal state               (actors.act)
        compute the segment's loss and its gradients d_theta              (algo.loss, backward)
        T <- T + steps                                                    (shared.add_frames)
        if T passed a multiple of I_target: theta- <- theta (Q methods)   (shared.update_target)
        apply d_theta to theta with shared RMSProp                        (shared.push)
    until T >= T_max or the run is stopped                                (shared.should_stop)

The backend provides ``shared``: where theta, the optimiser statistics and the global frame counter
T live, and where finished episodes and training statistics are reported. What the pseudocode
leaves out is kept out of the loop: :class:`Actors` steps the learner's environments and carries
their state from one segment to the next; :class:`_Stats` averages and reports the statistics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch

from asyncrl.algos import Algorithm, Segment, make_algorithm
from asyncrl.config import TrainConfig, frames_per_step
from asyncrl.envgroup import EnvGroup, GameOver, build_env_group
from asyncrl.envs import describe_spaces
from asyncrl.nets import Network, build_network, reset_state_rows, state_rows, with_state_rows
from asyncrl.optim import linear_lr

STATS_INTERVAL_S = 2.0


class SharedState(Protocol):
    """What a learner needs from its backend."""

    def pull(self, tensors: Sequence[torch.Tensor]) -> None:
        """Copy the shared parameters, then the shared buffers, into these local ones."""

    def observe(self, obs: torch.Tensor) -> None:
        """Fold observations into the shared running statistics (networks with ``obs_norm``)."""

    def observe_returns(self, returns: torch.Tensor) -> None:
        """Fold discounted returns into the shared reward scale (networks with ``reward_norm``)."""

    def push(self, grads: Sequence[torch.Tensor], lr: float, measure: bool = False) -> float | None:
        """Apply gradients to the shared parameters (shared RMSProp, lock-free); with ``measure``,
        return the update's size relative to the parameters if the backend can tell (else None)."""

    def add_frames(self, n: int) -> int:
        """Add to the global frame counter; return its new value."""

    def should_stop(self) -> bool: ...

    def target_network(self) -> torch.nn.Module | None:
        """The shared target network theta- (read-only for learners), if the algorithm uses one."""

    def update_target(self) -> None:
        """Copy theta into theta- (a backend whose server keeps T itself may do this there instead)."""

    def report(self, kind: str, worker: int, payload: dict) -> None:
        """Send an event ('started', 'episode' or 'stats') to the process that records the run."""


def learner_seed(base_seed: int, worker: int, start_frames: int) -> int:
    """Distinct, reproducible seeds per learner; a resumed run continues with fresh ones."""
    return int(np.random.SeedSequence([base_seed, worker, start_frames]).generate_state(1)[0])


# The initial network's stream: no learner's [seed, worker, frames] (worker < this) can reach it.
_NETWORK_STREAM = 2**32 - 1


def network_seed(base_seed: int) -> int:
    """The seed of theta's initial weights: one --seed is one starting network, on every backend."""
    return int(np.random.SeedSequence([base_seed, _NETWORK_STREAM, 0]).generate_state(1)[0])


class _Stats:
    """Averages a learner's per-segment statistics between two reports (no per-step logging), and
    reports them.

    Each statistic is averaged over the segments that measured it: some (the update's size) are
    measured only once per report.
    """

    def __init__(self, shared: SharedState, worker: int, algo: Algorithm, interval_s: float):
        self.shared, self.worker, self.algo = shared, worker, algo
        self.interval_s = interval_s
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.count = 0
        self.skipped = 0
        self.since = time.monotonic()

    def add(self, segment_stats: dict[str, float], grad_norm: float, update_ratio: float | None) -> None:
        stats = dict(segment_stats)
        if update_ratio is not None:
            stats["update_ratio"] = update_ratio
        stats["grad_norm"] = grad_norm
        for key, value in stats.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1
        self.count += 1

    def report_due(self) -> bool:
        return time.monotonic() - self.since >= self.interval_s

    def report(self, lr: float) -> None:
        means = {k: v / self.counts[k] for k, v in self.sums.items()}
        means["nonfinite_skipped"] = self.skipped
        self.reset()
        self.shared.report("stats", self.worker, {**self.algo.summarise(means), "learning_rate": lr})


class Actors:
    """The learner's K actors (``envs_per_worker``), one per environment, stepped in lock-step.

    Their actions at each step come from one batched forward pass. Each environment's segment still
    ends at t_max steps or at its terminal state (an environment whose segment ended waits for the
    others; in ALE's vector environment, ``--vector-env``, its game plays NOOP meanwhile), and the
    learner pushes one update for all K segments. Each environment is one of the paper's actors: it
    has its own exploration (the Q methods' final epsilon) and, with an LSTM, its own recurrent
    state. K = 1 is the paper's learner exactly.

    What each actor carries from one segment to the next: the state it is in (row 0 of ``obs``),
    its LSTM state, Sarsa's next action a' and, with --reward-norm, its discounted return so far.
    """

    def __init__(self, envs: EnvGroup, net: Network, algo: Algorithm, shared: SharedState, worker: int,
                 config: TrainConfig, seed: int, obs_shape: tuple[int, ...], obs_dtype: np.dtype):
        self.envs, self.net, self.algo, self.shared, self.worker = envs, net, algo, shared, worker
        self.n = n = config.run.envs_per_worker
        self.t_max = algo.segment_length
        self.gamma = config.algo.gamma
        # Frames stay uint8 until the network; vector observations become float32. Row t holds s_t of
        # every environment, so the states acted on together are one contiguous batch.
        buf_dtype = torch.uint8 if obs_dtype == np.uint8 else torch.float32
        self.obs = torch.zeros((self.t_max + 1, n, *obs_shape), dtype=buf_dtype)
        # With --reward-norm, by the shared scale as of the last pull (rewards stay raw otherwise).
        self.scale_rewards = net.reward_norm.scale if net.reward_norm is not None else (lambda r: r)
        for k, obs in enumerate(envs.reset(seed)):
            self.obs[0, k] = torch.from_numpy(obs)
        # The action chosen at the end of the last segment (Sarsa's a'), per environment.
        self.next_actions: list[int | None] = [None] * n
        # LSTM: one row per environment, zeros at each episode's start; None for a feed-forward net.
        self.lstm_state = net.zero_state(n)
        self.start_state = self.lstm_state  # the LSTM state at the segment's s_0
        # --reward-norm: each environment's discounted return so far, whose spread scales the rewards.
        self.discounted = [0.0] * n
        # The Q methods' final epsilon of each environment, so that its games can be told apart.
        self.final_epsilons = algo.exploration().get("final_epsilons") or [None] * n
        self.lengths = [0] * n
        self.ended: list[int] = []  # the environments whose segment ended at a terminal or a time limit

    def act(self, frames: int) -> list[Segment]:
        """Act for up to t_max steps in each environment, or until its terminal state: its segment.

        ``frames``: the global frame count T, which the Q methods' epsilon is annealed by."""
        self.algo.begin_segment(frames)
        n, obs = self.n, self.obs
        self.start_state = self.lstm_state  # LSTM: produced without a graph (detached)
        actions: list[list] = [[] for _ in range(n)]
        rewards: list[list[float]] = [[] for _ in range(n)]
        terminated = [False] * n
        truncated = [False] * n
        active = list(range(n))
        for t in range(self.t_max):
            chosen = self._choose(t, active)
            stepped, games = self.envs.step(chosen)  # an action for each environment still acting
            self._report_games(games)
            for k in list(active):
                step = stepped[k]
                actions[k].append(chosen[k])
                rewards[k].append(step.reward)
                obs[t + 1, k] = torch.from_numpy(step.obs)
                if step.terminated or step.truncated:
                    terminated[k], truncated[k] = step.terminated, step.truncated
                    active.remove(k)
            if not active:
                break

        self.lengths = [len(a) for a in actions]
        self.ended = [k for k in range(n) if terminated[k] or truncated[k]]
        self._observe(rewards)
        last_actions = self._choose_next(terminated, truncated)
        return [
            Segment(
                obs=obs[: self.lengths[k] + 1, k],
                # int64 indices, or the unclipped float32 samples of a continuous policy
                actions=torch.as_tensor(np.array(actions[k])),
                rewards=self.scale_rewards(torch.tensor(rewards[k], dtype=torch.float32)),
                terminated=terminated[k],
                next_action=last_actions[k],
            )
            for k in range(n)
        ]

    def next_segment(self) -> None:
        """Each environment's next segment starts where it is, or from a new episode (and zero LSTM
        state). Only once the update is computed: the segments are views of ``obs``."""
        if self.lstm_state is not None:
            self.lstm_state = reset_state_rows(self.lstm_state, self.ended)
        for k in range(self.n):
            if k in self.ended:
                self.obs[0, k] = torch.from_numpy(self.envs.next_start(k))
            else:
                self.obs[0, k] = self.obs[self.lengths[k], k]

    def _choose(self, t: int, active: list[int]) -> dict[int, Any]:
        """a_t for each environment still acting: Sarsa's a' first, the others in one forward pass."""
        chosen = dict.fromkeys(active)
        if t == 0:
            for k in active:
                chosen[k], self.next_actions[k] = self.next_actions[k], None
        undecided = [k for k in active if chosen[k] is None]
        if undecided:
            net, lstm_state = self.net, self.lstm_state
            every = len(undecided) == self.n
            states = self.obs[t] if every else self.obs[t, undecided]
            if lstm_state is not None:
                net.state = lstm_state if every else state_rows(lstm_state, undecided)
            chosen.update(zip(undecided, self.algo.act(net, states, envs=undecided), strict=True))
            if lstm_state is not None:
                self.lstm_state = net.state if every else with_state_rows(lstm_state, undecided, net.state)
        return chosen

    def _report_games(self, games: list[GameOver]) -> None:
        for game in games:  # whole games (not only a life), with their raw scores
            self.shared.report("episode", self.worker, {"return": game.score, "length": game.length,
                                                        "env": game.env,
                                                        "final_epsilon": self.final_epsilons[game.env]})

    def _observe(self, rewards: list[list[float]]) -> None:
        """Fold the segments' discounted returns and states into the shared statistics (with
        --reward-norm and --obs-norm); the local network keeps those of its last pull."""
        if self.net.reward_norm is not None:
            seen = []
            for k in range(self.n):
                for r in rewards[k]:
                    self.discounted[k] = self.gamma * self.discounted[k] + r
                    seen.append(self.discounted[k])
                if k in self.ended:
                    self.discounted[k] = 0.0
            self.shared.observe_returns(torch.tensor(seen, dtype=torch.float64).unsqueeze(1))
        if self.net.obs_norm is not None:
            self.shared.observe(torch.cat([self.obs[: self.lengths[k], k] for k in range(self.n)]))

    def _choose_next(self, terminated: list[bool], truncated: list[bool]) -> list[Any]:
        """Sarsa's a', chosen in each segment's last state before the loss; taken first in the next
        segment unless the episode ended there (a time limit's last state is still bootstrapped)."""
        last_actions: list[int | None] = [None] * self.n
        if self.algo.needs_next_action:
            going_on = [k for k in range(self.n) if not terminated[k]]
            if going_on:
                states = torch.stack([self.obs[self.lengths[k], k] for k in going_on])
                for k, action in zip(going_on, self.algo.act(self.net, states, envs=going_on), strict=True):
                    last_actions[k] = action
                    if not truncated[k]:
                        self.next_actions[k] = action
        return last_actions


def run_learner(worker: int, config: TrainConfig, shared: SharedState, seed: int) -> None:
    """One actor-learner: its own environments (:class:`Actors`), local network and seed, until the
    budget is spent."""
    # One thread by default: many learners on few cores, and intra-op threads would only contend.
    torch.set_num_threads(config.run.torch_threads)
    torch.manual_seed(seed)
    envs = build_env_group(config)
    obs_shape, obs_dtype, action_spec = describe_spaces(envs)
    algo = make_algorithm(config.algo)
    algo.setup_exploration(np.random.default_rng(seed), config.run.envs_per_worker)
    net = build_network(obs_shape, action_spec, algo.head, config.net)
    params = list(net.parameters())
    pulled = params + list(net.buffers())  # buffers: the shared observation statistics, if any
    target_net = shared.target_network()
    total_frames, target_update = config.run.frames, config.algo.target_update
    frames_each_step = frames_per_step(config.env)
    max_grad_norm = config.optim.max_grad_norm or math.inf  # 0 means no clipping
    # A --log-interval shorter than the default report period asks for finer statistics too.
    stats = _Stats(shared, worker, algo, min(STATS_INTERVAL_S, config.run.log_interval))
    actors = Actors(envs, net, algo, shared, worker, config, seed, obs_shape, obs_dtype)
    frames = shared.add_frames(0)
    shared.report("started", worker, algo.exploration())

    while True:
        shared.pull(pulled)  # theta' <- theta
        segments = actors.act(frames)
        # LSTM: the loss replays each environment's segment from its state at s_0, so
        # backpropagation is truncated at the segment's start.
        net.state = actors.start_state
        loss, segment_stats = algo.loss(net, segments, target_net)
        net.zero_grad(set_to_none=False)
        loss.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_grad_norm))
        actors.next_segment()

        added = sum(actors.lengths) * frames_each_step
        frames = shared.add_frames(added)  # T <- T + steps
        if target_net is not None and (frames - added) // target_update < frames // target_update:
            shared.update_target()  # this learner took T past a multiple of I_target: theta- <- theta
        lr = linear_lr(config.optim.lr, frames, total_frames, config.optim.lr_anneal,
                       config.optim.lr_warmup_frames)
        if math.isfinite(grad_norm):  # never let a NaN/inf reach the shared parameters
            # The update's size is measured once per report: it costs a pass over the parameters.
            update_ratio = shared.push([p.grad for p in params], lr, measure=stats.report_due())
            stats.add(segment_stats, grad_norm, update_ratio)
        else:
            stats.skipped += 1
        if stats.report_due():
            stats.report(lr)

        if frames >= total_frames or shared.should_stop():
            break
    if stats.count or stats.skipped:  # the last statistics too, so that even a short run has them
        stats.report(lr)
    envs.close()
