"""The value-based asynchronous methods (Mnih et al. 2016, Algorithms 1, S1 and S2).

All three act epsilon-greedily on Q(s, .; theta') and regress Q(s_i, a_i; theta') onto a target
built from a shared target network theta-, which is copied from theta every ``target_update``
global frames. They differ only in the target:

    one-step Q       y_i = r_i + gamma max_a' Q(s_{i+1}, a'; theta-)
    one-step Sarsa   y_i = r_i + gamma Q(s_{i+1}, a_{i+1}; theta-)     (a_{i+1}: the action taken next)
    n-step Q         R   = max_a Q(s_T, a; theta-);  for i = T-1 .. 0:  R <- r_i + gamma R;  y_i = R

with the bootstrap term 0 after a terminal state. The one-step methods accumulate the gradients of
``async_update`` steps (or up to the episode's end) before applying them, n-step Q those of its
``t_max``-step segment; either way the learner applies them once per segment. A learner that steps
several environments (``--envs-per-worker``) sums the gradients of all their segments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from asyncrl.algos.base import Algorithm
from asyncrl.algos.segment import Batch, Segment, discounted_returns
from asyncrl.config import AlgoConfig

# The paper's exploration: each actor's final epsilon is drawn once from this distribution. An
# actor is one environment: a learner that steps K environments draws K of them.
FINAL_EPSILONS = (0.1, 0.01, 0.5)
FINAL_EPSILON_PROBS = (0.4, 0.3, 0.3)


def sample_final_epsilon(rng: np.random.Generator) -> float:
    return float(rng.choice(FINAL_EPSILONS, p=FINAL_EPSILON_PROBS))


def epsilon_at(frames: int, final: float | np.ndarray, anneal_frames: int) -> float | np.ndarray:
    """Linear from 1 to ``final`` over the first ``anneal_frames`` global frames, then constant."""
    fraction = min(1.0, frames / anneal_frames)
    return 1.0 + fraction * (final - 1.0)


def one_step_q_targets(rewards: torch.Tensor, next_q: torch.Tensor, terminated: bool,
                       gamma: float) -> torch.Tensor:
    """y_i = r_i + gamma max_a Q-(s_{i+1}, a); ``next_q`` holds Q-(s_1..s_T, .)."""
    bootstrap = next_q.max(dim=1).values
    if terminated:
        bootstrap[-1] = 0.0  # only the segment's last state can be terminal
    return rewards + gamma * bootstrap


def one_step_sarsa_targets(rewards: torch.Tensor, next_q: torch.Tensor, next_actions: torch.Tensor,
                           terminated: bool, gamma: float) -> torch.Tensor:
    """y_i = r_i + gamma Q-(s_{i+1}, a_{i+1}); ``next_actions`` are a_1..a_T."""
    bootstrap = next_q.gather(1, next_actions.unsqueeze(1)).squeeze(1)
    if terminated:
        bootstrap[-1] = 0.0
    return rewards + gamma * bootstrap


def n_step_q_targets(rewards: torch.Tensor, last_q: torch.Tensor, terminated: bool,
                     gamma: float) -> torch.Tensor:
    """The forward view: R walks back from max_a Q-(s_T, a), or 0 after a terminal state."""
    bootstrap = 0.0 if terminated else last_q.max()
    return discounted_returns(rewards, bootstrap, gamma)


class QLearning(Algorithm):
    """One-step Q, one-step Sarsa or n-step Q: epsilon-greedy acting and the squared TD loss."""

    head = "q"
    uses_target_network = True

    def __init__(self, config: AlgoConfig):
        self.kind = config.algo
        self.gamma = config.gamma
        self.needs_next_action = self.kind == "one-step-sarsa"
        # The one-step methods accumulate async_update steps; n-step Q acts t_max steps ahead.
        self.segment_length = config.t_max if self.kind == "n-step-q" else config.async_update
        self.final_epsilons = np.ones(1)  # one per environment
        self.epsilons = np.ones(1)  # the current epsilon of each environment
        self.anneal_frames = config.epsilon_frames or 1
        self.fixed_epsilon = False
        self.rng = np.random.default_rng()

    def setup_exploration(self, rng: np.random.Generator, n_envs: int = 1) -> None:
        """Draw each environment's final epsilon, once: each is one of the paper's actors."""
        self.rng = rng
        self.final_epsilons = np.array([sample_final_epsilon(rng) for _ in range(n_envs)])
        self.epsilons = np.ones(n_envs)

    def exploration(self) -> dict[str, list[float]]:
        return {"final_epsilons": self.final_epsilons.tolist()}

    @property
    def epsilon(self) -> float:
        """The mean of the environments' current epsilons (what a learner logs)."""
        return float(self.epsilons.mean())

    @epsilon.setter
    def epsilon(self, value: float) -> None:
        """One epsilon for every environment, from now on (evaluation's fixed epsilon)."""
        self.final_epsilons = np.full(len(self.epsilons), float(value))
        self.epsilons = self.final_epsilons.copy()
        self.fixed_epsilon = True

    def begin_segment(self, frames: int) -> None:
        if not self.fixed_epsilon:
            self.epsilons = epsilon_at(frames, self.final_epsilons, self.anneal_frames)

    @torch.no_grad()
    def act(self, net: torch.nn.Module, obs: torch.Tensor, deterministic: bool = False,
            envs: Sequence[int] | None = None) -> list[int]:
        q = net(obs)
        actions = q.argmax(-1).tolist()
        if not deterministic:
            epsilons = self.epsilons if envs is None else self.epsilons[list(envs)]
            explore = self.rng.random(len(actions)) < np.broadcast_to(epsilons, (len(actions),))
            for i in np.flatnonzero(explore):
                actions[i] = int(self.rng.integers(q.shape[-1]))
        return actions

    def loss(self, net: torch.nn.Module, segments: Segment | Sequence[Segment], target_net: torch.nn.Module
             ) -> tuple[torch.Tensor, dict[str, float]]:
        batch = Batch.of(segments)
        q_all = net(batch.obs[batch.step_rows])
        q = q_all.gather(1, batch.actions.unsqueeze(1)).squeeze(1)
        with torch.no_grad():  # one batched forward of the target network for every segment
            if self.kind == "n-step-q":
                last_q = target_net(batch.obs[batch.last_rows])
                targets = [n_step_q_targets(s.rewards, last_q[k], s.terminated, self.gamma)
                           for k, s in enumerate(batch.segments)]
            else:
                next_q = target_net(batch.obs[batch.step_rows + 1]).split([len(s) for s in batch.segments])
                if self.kind == "one-step-q":
                    targets = [one_step_q_targets(s.rewards, nq, s.terminated, self.gamma)
                               for s, nq in zip(batch.segments, next_q, strict=True)]
                else:
                    targets = [
                        one_step_sarsa_targets(
                            s.rewards, nq, torch.cat([s.actions[1:], _next_action_tensor(s.next_action)]),
                            s.terminated, self.gamma)
                        for s, nq in zip(batch.segments, next_q, strict=True)
                    ]
        td = torch.cat(targets) - q
        loss = td.pow(2).sum()
        # Summed over the steps of every segment, as the paper accumulates a segment's gradients.
        # q_spread: each action's Q(s, a) std over the batch's states, averaged over the actions;
        # a torso that has collapsed gives every state the same values and it falls to ~0.
        return loss, {"td_loss": loss.item() / batch.steps, "q_values": q.mean().item(),
                      "q_spread": float(q_all.detach().std(0, unbiased=False).mean()),
                      "epsilon": self.epsilon}


def _next_action_tensor(action: int | None) -> torch.Tensor:
    # After a terminal state there is no next action; its bootstrap is zeroed, any index will do.
    return torch.tensor([0 if action is None else action], dtype=torch.int64)
