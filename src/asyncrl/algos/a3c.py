"""A3C: asynchronous advantage actor-critic (Mnih et al. 2016, Algorithm S3), feed-forward, discrete.

For a segment s_0..s_T with R = 0 if s_T is terminal else V(s_T):
    for i = T-1 .. 0:  R <- r_i + gamma R
    d_theta   += grad log pi(a_i | s_i) (R - V(s_i)) + beta grad H(pi(s_i))
    d_theta_v += grad (R - V(s_i))^2            (scaled by value_loss_coef, 0.5)
Gradients of the segment are summed, as the paper accumulates them, and applied once.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from asyncrl.algos.base import Algorithm
from asyncrl.algos.segment import Segment, discounted_returns
from asyncrl.config import AlgoConfig


def policy_gradient_loss(logits: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    log_pi = F.log_softmax(logits, dim=-1).gather(1, actions.unsqueeze(1)).squeeze(1)
    return -(log_pi * advantages.detach()).sum()


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Summed entropy of the segment's softmax policies."""
    log_p = F.log_softmax(logits, dim=-1)
    return -(log_p.exp() * log_p).sum()


def value_loss(advantages: torch.Tensor) -> torch.Tensor:
    return advantages.pow(2).sum()


class A3C(Algorithm):
    """How A3C acts (sample from pi) and the loss of one segment."""

    head = "actor_critic"

    def __init__(self, config: AlgoConfig):
        self.gamma = config.gamma
        self.segment_length = config.t_max
        self.entropy_beta = config.entropy_beta
        self.value_loss_coef = config.value_loss_coef

    @torch.no_grad()
    def act(self, net: torch.nn.Module, obs: torch.Tensor, deterministic: bool = False) -> int:
        logits, _ = net(obs)
        if deterministic:
            return int(logits.argmax(-1))
        return int(torch.multinomial(F.softmax(logits, dim=-1), 1))

    def loss(self, net: torch.nn.Module, segment: Segment, target_net: torch.nn.Module | None = None
             ) -> tuple[torch.Tensor, dict[str, float]]:
        # One batched forward over s_0..s_T: the local parameters are fixed during a segment, so
        # this equals the values seen while acting, and s_T's value is the bootstrap.
        logits, values = net(segment.obs)
        bootstrap = 0.0 if segment.terminated else values[-1].detach()
        returns = discounted_returns(segment.rewards, bootstrap, self.gamma)
        advantages = returns - values[:-1]
        pg = policy_gradient_loss(logits[:-1], segment.actions, advantages)
        ent = entropy(logits[:-1])
        vl = value_loss(advantages)
        total = pg - self.entropy_beta * ent + self.value_loss_coef * vl
        n = len(segment)
        stats = {
            "policy_loss": pg.item() / n,
            "value_loss": vl.item() / n,
            "entropy": ent.item() / n,
        }
        return total, stats
