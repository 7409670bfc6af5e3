"""The actor-learner loop of the paper's pseudocode, written once for every algorithm and backend.

    repeat
        synchronise the local parameters theta' <- theta          (shared.pull)
        act for up to t_max steps or until a terminal state         (algo.act)
        compute the segment's loss and its gradients d_theta        (algo.loss)
        T <- T + steps;  apply d_theta to theta with shared RMSProp  (shared.push)
    until T > T_max

The backend provides ``shared``: where theta, the optimiser statistics and the global frame counter
T live, and where finished episodes and training statistics are reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch

from asyncrl.algos import Segment, make_algorithm
from asyncrl.config import TrainConfig, frames_per_step
from asyncrl.envgroup import build_env_group
from asyncrl.envs import describe_spaces
from asyncrl.nets import build_network, reset_state_rows, state_rows, with_state_rows
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


class _StatsMeans:
    """Averages a learner's per-segment statistics between two reports (no per-step logging).

    Each statistic is averaged over the segments that measured it: some (the update's size) are
    measured only once per report.
    """

    def __init__(self, interval_s: float):
        self.interval_s = interval_s
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.count = 0
        self.skipped = 0
        self.since = time.monotonic()

    def add(self, stats: dict[str, float]) -> None:
        for key, value in stats.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1
        self.count += 1

    def report_due(self) -> bool:
        return time.monotonic() - self.since >= self.interval_s

    def take(self) -> dict[str, float]:
        means = {k: v / self.counts[k] for k, v in self.sums.items()}
        means["nonfinite_skipped"] = self.skipped
        self.reset()
        return means


def run_learner(worker: int, config: TrainConfig, shared: SharedState, seed: int) -> None:
    """One actor-learner: its own environments, local network and seed, until the budget is spent.

    With ``envs_per_worker`` K > 1 the learner steps K environments in lock-step, choosing their
    actions with one batched forward pass; each environment's segment still ends at t_max steps or
    at its terminal state (an environment whose segment ended waits for the others; in ALE's vector
    environment, ``--vector-env``, its game plays NOOP meanwhile), and the
    learner pushes one update for all K segments. Each environment is one of the paper's actors:
    it has its own exploration (the Q methods' final epsilon) and, with an LSTM, its own recurrent
    state. K = 1 is the paper's learner exactly.
    """
    # One thread by default: many learners on few cores, and intra-op threads would only contend.
    torch.set_num_threads(config.run.torch_threads)
    torch.manual_seed(seed)
    n_envs = config.run.envs_per_worker
    envs = build_env_group(config)
    obs_shape, obs_dtype, action_spec = describe_spaces(envs)
    algo = make_algorithm(config.algo)
    algo.setup_exploration(np.random.default_rng(seed), n_envs)
    net = build_network(obs_shape, action_spec, algo.head, config.net)
    params = list(net.parameters())
    pulled = params + list(net.buffers())  # buffers: the shared observation statistics, if any
    target_net = shared.target_network()

    t_max, total_frames = algo.segment_length, config.run.frames
    target_update = config.algo.target_update
    frames_each_step = frames_per_step(config.env)
    max_grad_norm = config.optim.max_grad_norm or math.inf  # 0 means no clipping
    # Frames stay uint8 until the network; vector observations become float32. Row t holds s_t of
    # every environment, so the states acted on together are one contiguous batch.
    buf_dtype = torch.uint8 if obs_dtype == np.uint8 else torch.float32
    obs_buf = torch.zeros((t_max + 1, n_envs, *obs_shape), dtype=buf_dtype)
    # A --log-interval shorter than the default report period asks for finer statistics too.
    stats = _StatsMeans(min(STATS_INTERVAL_S, config.run.log_interval))
    # With --reward-norm, by the shared scale as of the last pull (rewards stay raw otherwise).
    scale_rewards = net.reward_norm.scale if net.reward_norm is not None else (lambda r: r)

    for k, obs in enumerate(envs.reset(seed)):
        obs_buf[0, k] = torch.from_numpy(obs)
    # The action chosen at the end of the last segment (Sarsa's a'), per environment.
    next_actions: list[int | None] = [None] * n_envs
    # LSTM: one row per environment, zeros at each episode's start; None for a feed-forward net.
    lstm_state = net.zero_state(n_envs)
    # --reward-norm: each environment's discounted return so far, whose spread scales the rewards.
    discounted = [0.0] * n_envs
    gamma = config.algo.gamma
    frames = shared.add_frames(0)
    exploration = algo.exploration()
    shared.report("started", worker, exploration)
    # The Q methods' final epsilon of each environment, so that its games can be told apart.
    final_epsilons = exploration.get("final_epsilons") or [None] * n_envs
    while True:
        shared.pull(pulled)  # theta' <- theta
        algo.begin_segment(frames)
        start_state = lstm_state  # LSTM: the state at s_0, produced without a graph (detached)
        actions: list[list] = [[] for _ in range(n_envs)]
        rewards: list[list[float]] = [[] for _ in range(n_envs)]
        terminated = [False] * n_envs
        truncated = [False] * n_envs
        active = list(range(n_envs))
        for t in range(t_max):
            chosen = dict.fromkeys(active)
            if t == 0:
                for k in active:
                    chosen[k], next_actions[k] = next_actions[k], None
            undecided = [k for k in active if chosen[k] is None]
            if undecided:
                every = len(undecided) == n_envs
                states = obs_buf[t] if every else obs_buf[t, undecided]
                if lstm_state is not None:
                    net.state = lstm_state if every else state_rows(lstm_state, undecided)
                chosen.update(zip(undecided, algo.act(net, states, envs=undecided), strict=True))
                if lstm_state is not None:
                    lstm_state = (net.state if every
                                  else with_state_rows(lstm_state, undecided, net.state))
            stepped, games = envs.step(chosen)  # an action for each environment still acting
            for game in games:  # whole games (not only a life), with their raw scores
                shared.report("episode", worker, {"return": game.score, "length": game.length,
                                                  "env": game.env, "final_epsilon": final_epsilons[game.env]})
            for k in list(active):
                step = stepped[k]
                actions[k].append(chosen[k])
                rewards[k].append(step.reward)
                obs_buf[t + 1, k] = torch.from_numpy(step.obs)
                if step.terminated or step.truncated:
                    terminated[k], truncated[k] = step.terminated, step.truncated
                    active.remove(k)
            if not active:
                break

        lengths = [len(a) for a in actions]
        if net.reward_norm is not None:
            seen = []
            for k in range(n_envs):
                for r in rewards[k]:
                    discounted[k] = gamma * discounted[k] + r
                    seen.append(discounted[k])
                if terminated[k] or truncated[k]:
                    discounted[k] = 0.0
            shared.observe_returns(torch.tensor(seen, dtype=torch.float64).unsqueeze(1))
        last_actions: list[int | None] = [None] * n_envs
        if algo.needs_next_action:
            going_on = [k for k in range(n_envs) if not terminated[k]]
            if going_on:
                states = torch.stack([obs_buf[lengths[k], k] for k in going_on])
                for k, action in zip(going_on, algo.act(net, states, envs=going_on), strict=True):
                    last_actions[k] = action
                    if not truncated[k]:  # the episode goes on: this is the next segment's first action
                        next_actions[k] = action
        segments = [
            Segment(
                obs=obs_buf[: lengths[k] + 1, k],
                # int64 indices, or the unclipped float32 samples of a continuous policy
                actions=torch.as_tensor(np.array(actions[k])),
                rewards=scale_rewards(torch.tensor(rewards[k], dtype=torch.float32)),
                terminated=terminated[k],
                next_action=last_actions[k],
            )
            for k in range(n_envs)
        ]
        # LSTM: the loss replays each environment's segment from its state at s_0, so
        # backpropagation is truncated at the segment's start; the next segment goes on from the
        # state acting reached, or from zeros after the episode's end.
        net.state = start_state
        loss, segment_stats = algo.loss(net, segments, target_net)
        if lstm_state is not None:
            ended = [k for k in range(n_envs) if terminated[k] or truncated[k]]
            lstm_state = reset_state_rows(lstm_state, ended)
        if net.obs_norm is not None:
            shared.observe(torch.cat([obs_buf[: lengths[k], k] for k in range(n_envs)]))
        net.zero_grad(set_to_none=False)
        loss.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_grad_norm))

        # The next segment starts where each environment is, or from a new episode.
        for k in range(n_envs):
            if terminated[k] or truncated[k]:
                obs_buf[0, k] = torch.from_numpy(envs.next_start(k))
            else:
                obs_buf[0, k] = obs_buf[lengths[k], k]

        added = sum(lengths) * frames_each_step
        frames = shared.add_frames(added)  # T <- T + steps
        if target_net is not None and (frames - added) // target_update < frames // target_update:
            shared.update_target()  # this learner took T past a multiple of I_target: theta- <- theta
        lr = linear_lr(config.optim.lr, frames, total_frames, config.optim.lr_anneal,
                       config.optim.lr_warmup_frames)
        if math.isfinite(grad_norm):
            due = stats.report_due()  # measure the update's size once per report: it costs a pass
            update_ratio = shared.push([p.grad for p in params], lr, measure=due)
            if update_ratio is not None:
                segment_stats["update_ratio"] = update_ratio
            stats.add({**segment_stats, "grad_norm": grad_norm})
        else:  # never let a NaN/inf reach the shared parameters
            stats.skipped += 1
        if stats.report_due():
            shared.report("stats", worker, {**algo.summarise(stats.take()), "learning_rate": lr})

        if frames >= total_frames or shared.should_stop():
            break
    if stats.count or stats.skipped:  # the last statistics too, so that even a short run has them
        shared.report("stats", worker, {**algo.summarise(stats.take()), "learning_rate": lr})
    envs.close()
