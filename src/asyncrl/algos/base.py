"""What an algorithm plug-in provides to the shared learner loop."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch

from asyncrl.algos.segment import Segment


class Algorithm(ABC):
    """How to act, and the loss of a segment; the hooks default to doing nothing.

    ``head``: the network head it needs ("actor_critic" or "q").
    ``uses_target_network``: the backend keeps a shared target network theta- for it.
    ``needs_next_action``: the learner chooses the action for the segment's last state before the
    loss (one-step Sarsa's a'), and takes it first in the next segment.
    ``segment_length``: steps between two updates.
    """

    head: ClassVar[str]
    segment_length: int
    uses_target_network: ClassVar[bool] = False
    needs_next_action: bool = False

    def setup_exploration(self, rng: np.random.Generator, n_envs: int = 1) -> None:
        """Called once per learner with the learner's own random generator and the number of
        environments it steps."""

    def exploration(self) -> dict[str, list[float]]:
        """What the learner drew for exploration, to log once when it starts (the Q methods'
        final epsilon per environment)."""
        return {}

    def begin_segment(self, frames: int) -> None:
        """Called before each segment with the global frame count."""

    def summarise(self, means: dict[str, float]) -> dict[str, float]:
        """A learner's report as it is logged, from its statistics averaged over the segments
        since the last report: what no single segment can measure is derived here."""
        return means

    @abstractmethod
    def act(self, net: torch.nn.Module, obs: torch.Tensor, deterministic: bool = False,
            envs: Sequence[int] | None = None) -> list:
        """One action per observation of the batch (no gradient): an index, or a real vector.

        ``envs``: which of the learner's environments the rows come from (None: row k is
        environment k), for what an algorithm keeps per environment (the Q methods' epsilon)."""

    @abstractmethod
    def loss(self, net: torch.nn.Module, segments: Segment | Sequence[Segment],
             target_net: torch.nn.Module | None) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss of a segment, or of one segment per environment the learner steps, whose
        gradient is the update, and statistics to log."""
