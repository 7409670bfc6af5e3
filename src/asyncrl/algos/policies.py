"""The two policy distributions of A3C, over a batch of policy outputs (one row per state).

``Categorical``: the rows are softmax logits (discrete actions, Atari and CartPole).
``Gaussian``: the rows are means then variances per action dimension (the paper's continuous
policy, mean linear and variance softplus). Its entropy is the Gaussian's,
1/2 (log(2 pi sigma^2) + 1) per dimension; the paper prints it with a stray minus sign.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F


class Categorical:
    continuous = False

    @staticmethod
    def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(logits, dim=-1).gather(1, actions.unsqueeze(1)).squeeze(1)

    @staticmethod
    def entropy(logits: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(logits, dim=-1)
        return -(log_p.exp() * log_p).sum(-1)

    @staticmethod
    def sample(logits: torch.Tensor) -> list[int]:
        """One action per row."""
        return torch.multinomial(F.softmax(logits, dim=-1), 1).squeeze(1).tolist()

    @staticmethod
    def mode(logits: torch.Tensor) -> list[int]:
        return logits.argmax(-1).tolist()


class Gaussian:
    continuous = True

    @staticmethod
    def split(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, var = params.chunk(2, dim=-1)
        return mean, var

    @staticmethod
    def log_prob(params: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Summed over action dimensions, of the unclipped sample the learner drew."""
        mean, var = Gaussian.split(params)
        return (-(actions - mean).pow(2) / (2 * var) - 0.5 * torch.log(2 * math.pi * var)).sum(-1)

    @staticmethod
    def entropy(params: torch.Tensor) -> torch.Tensor:
        _, var = Gaussian.split(params)
        return (0.5 * (torch.log(2 * math.pi * var) + 1)).sum(-1)

    @staticmethod
    def sample(params: torch.Tensor) -> list[np.ndarray]:
        """One action vector per row."""
        mean, var = Gaussian.split(params)
        return list((mean + var.sqrt() * torch.randn_like(mean)).detach().numpy())

    @staticmethod
    def mode(params: torch.Tensor) -> list[np.ndarray]:
        return list(Gaussian.split(params)[0].detach().numpy())
