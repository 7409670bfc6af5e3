"""A3C: asynchronous advantage actor-critic (Mnih et al. 2016, Algorithm S3).

Feed-forward or LSTM, discrete (softmax) or continuous (Gaussian) actions: the network's head says
which distribution its policy output parameterises (``asyncrl.algos.policies``).

For a segment s_0..s_T with R = 0 if s_T is terminal else V(s_T):
    for i = T-1 .. 0:  R <- r_i + gamma R
    d_theta   += grad log pi(a_i | s_i) (R - V(s_i)) + beta grad H(pi(s_i))
    d_theta_v += grad (R - V(s_i))^2            (scaled by value_loss_coef, 0.5)
Gradients of the segment are summed, as the paper accumulates them, and applied once. A learner
that steps several environments (``--envs-per-worker``) sums the gradients of all their segments.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from asyncrl import defaults
from asyncrl.algos.base import Algorithm
from asyncrl.algos.policies import Categorical
from asyncrl.algos.segment import Batch, Segment, discounted_returns
from asyncrl.config import AlgoConfig


def policy_gradient_loss(policy: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor,
                         distribution=Categorical) -> torch.Tensor:
    log_pi = distribution.log_prob(policy, actions)
    return -(log_pi * advantages.detach()).sum()


def entropy(policy: torch.Tensor, distribution=Categorical) -> torch.Tensor:
    """Summed entropy of the segment's policies."""
    return distribution.entropy(policy).sum()


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
    def act(self, net: torch.nn.Module, obs: torch.Tensor, deterministic: bool = False,
            envs: Sequence[int] | None = None) -> list:
        policy, _ = net(obs)
        distribution = net.distribution
        return distribution.mode(policy) if deterministic else distribution.sample(policy)

    def loss(self, net: torch.nn.Module, segments: Segment | Sequence[Segment],
             target_net: torch.nn.Module | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        # One batched forward over s_0..s_T of every segment: the local parameters are fixed
        # during a segment, so this equals the values seen while acting, and s_T's value is the
        # bootstrap. An LSTM network replays each segment from the state it had at s_0 (the
        # learner restores it): backpropagation runs through the segment's steps and stops there.
        batch = Batch.of(segments)
        recurrent = getattr(net, "recurrent", False)  # any module with the (policy, value) output works
        policy, values = net(batch.obs, batch.obs_lengths) if recurrent else net(batch.obs)
        distribution = net.distribution
        last_values = values.detach()[batch.last_rows]
        returns = torch.cat([
            discounted_returns(s.rewards, 0.0 if s.terminated else last_values[k], self.gamma)
            for k, s in enumerate(batch.segments)
        ])
        step_policy = policy[batch.step_rows]
        advantages = returns - values[batch.step_rows]
        pg = policy_gradient_loss(step_policy, batch.actions, advantages, distribution)
        ent = entropy(step_policy, distribution)
        vl = value_loss(advantages)
        beta = self.entropy_beta
        if beta is None:  # an unresolved config: the default weight for this kind of policy
            family = "continuous" if distribution.continuous else "vector"
            beta = defaults.row_for(("algo", "entropy_beta"), family, "a3c-ff").value
        # Summed over the steps of every segment, as the paper accumulates a segment's gradients:
        # a learner with K environments applies in one update what K learners would in K.
        total = pg - beta * ent + self.value_loss_coef * vl
        n = batch.steps
        stats = {
            "policy_loss": pg.item() / n,
            "value_loss": vl.item() / n,
            "entropy": ent.item() / n,
            **value_diagnostics(returns, advantages.detach()),
            # A torso that has collapsed gives every state the same value: this falls to ~0.
            "value_spread": float(values.detach()[batch.step_rows].std(unbiased=False)),
        }
        return total, stats

    def summarise(self, means: dict[str, float]) -> dict[str, float]:
        if POOLED[0] in means:  # the value's fit over every state since the last report
            means["pooled_explained_variance"] = pooled_explained_variance(means)
            for key in POOLED:
                del means[key]
        return means


# A batch's count and sums for the explained variance pooled over a report's batches. A report
# averages each statistic over its batches, so the ratios of these averages are the pooled moments.
POOLED = ("pooled/n", "pooled/returns", "pooled/returns_sq", "pooled/errors", "pooled/errors_sq")


def value_diagnostics(returns: torch.Tensor, advantages: torch.Tensor) -> dict[str, float]:
    """How well V predicts the returns, and the scale of the advantages that drive the policy.

    explained_variance = 1 - Var(R - V) / Var(R): 1 is a perfect value, 0 no better than a
    constant, below 0 worse. A policy cannot learn while its advantages are noise around zero.
    Over one batch it says little when the batch is a few steps of one environment (a continuous
    learner's 5): its returns barely differ. So the batch's sums of R, R², R - V and (R - V)² go
    along too (the ``POOLED`` keys), and ``A3C.summarise`` pools them over all the batches of a
    learner's report (``pooled_explained_variance``); the batch's own figures come from the same sums.
    """
    r, e = returns.double(), advantages.double()  # float64: the variances subtract squared means
    sums = torch.stack((r.sum(), r.square().sum(), e.sum(), e.square().sum())).tolist()  # one copy out
    pooled = dict(zip(POOLED, [float(len(returns)), *sums], strict=True))
    _, var_error = _variances(pooled)
    return {
        "explained_variance": pooled_explained_variance(pooled),
        "advantage_std": max(var_error, 0.0) ** 0.5,
        **pooled,
    }


def _variances(means: dict[str, float]) -> tuple[float, float]:
    """Var(R) and Var(R - V) from the POOLED count and sums (or their averages over batches)."""
    n, r, r2, e, e2 = (means[key] for key in POOLED)
    return r2 / n - (r / n) ** 2, e2 / n - (e / n) ** 2


def pooled_explained_variance(means: dict[str, float]) -> float:
    """1 - Var(R - V) / Var(R) over every state of the batches whose POOLED sums were averaged."""
    var_returns, var_error = _variances(means)
    return 1.0 - var_error / var_returns if var_returns > 1e-12 else 0.0
