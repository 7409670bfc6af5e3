"""A segment: the up-to-t_max steps a learner collects between two updates (the paper's inner loop)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
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


@dataclass
class Batch:
    """Several segments (one per environment a learner steps) laid end to end for one forward pass.

    ``obs`` holds every segment's s_0..s_T in turn; ``step_rows`` index the states that were acted
    in (s_0..s_{T-1} of each segment) and ``last_rows`` each segment's s_T.
    """

    segments: list[Segment]
    obs: torch.Tensor
    step_rows: torch.Tensor
    last_rows: torch.Tensor
    actions: torch.Tensor

    @classmethod
    def of(cls, segments: Segment | Sequence[Segment]) -> Batch:
        segments = [segments] if isinstance(segments, Segment) else list(segments)
        lengths = np.array([len(s) for s in segments])
        ends = np.cumsum(lengths + 1)  # one past each segment's s_T
        starts = ends - lengths - 1
        steps = np.concatenate([np.arange(a, a + n) for a, n in zip(starts, lengths, strict=True)])
        one = len(segments) == 1
        return cls(
            segments=segments,
            obs=segments[0].obs if one else torch.cat([s.obs for s in segments]),
            step_rows=torch.from_numpy(steps),
            last_rows=torch.from_numpy(ends - 1),
            actions=segments[0].actions if one else torch.cat([s.actions for s in segments]),
        )

    @property
    def obs_lengths(self) -> list[int]:
        """Rows of ``obs`` per segment (T + 1 each): the sequences a recurrent network replays."""
        return [len(s) + 1 for s in self.segments]

    @property
    def steps(self) -> int:
        return len(self.step_rows)

    def __len__(self) -> int:
        return len(self.segments)
