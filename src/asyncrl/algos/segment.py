"""A segment: the up-to-t_max steps a learner collects between two updates (the paper's inner loop)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Segment:
    """States s_0..s_T, actions a_0..a_{T-1} and rewards r_0..r_{T-1} of one segment.

    ``obs[T]`` is the state to bootstrap from; ``terminated`` says it is terminal (bootstrap 0).
    An episode cut by a time limit is not terminal: its last state is bootstrapped as usual.
    ``next_action`` is the action chosen in ``obs[T]``, for algorithms that need it (Sarsa).
    """

    obs: torch.Tensor  # (T + 1, *obs_shape), dtype as the environment gives it (uint8 for Atari)
    actions: torch.Tensor  # (T,) int64 indices, or (T, d) float32 samples of a continuous policy
    rewards: torch.Tensor  # (T,) float32
    terminated: bool
    next_action: int | None = None

    def __len__(self) -> int:
        return len(self.actions)


def discounted_returns(rewards: torch.Tensor, bootstrap: torch.Tensor | float, gamma: float) -> torch.Tensor:
    """R_i = r_i + gamma * R_{i+1}, walking back from R_T = bootstrap (the paper's forward view)."""
    returns = torch.empty_like(rewards)
    running = torch.as_tensor(bootstrap, dtype=rewards.dtype)
    for i in range(len(rewards) - 1, -1, -1):
        running = rewards[i] + gamma * running
        returns[i] = running
    return returns
