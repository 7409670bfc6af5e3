"""A3C's segment loss against hand-computed numbers."""

import math

import pytest
import torch
from torch import nn

from asyncrl import AlgoConfig
from asyncrl.algos import A3C, Segment, discounted_returns
from asyncrl.algos.policies import Categorical


def test_returns_walk_back_from_the_bootstrap_value():
    rewards = torch.tensor([1.0, 0.0, 2.0])
    torch.testing.assert_close(discounted_returns(rewards, 10.0, 0.5), torch.tensor([2.75, 3.5, 7.0]))
    torch.testing.assert_close(discounted_returns(rewards, 0.0, 0.5), torch.tensor([1.5, 1.0, 2.0]))


class FixedNet(nn.Module):
    """Logits and values as learnable tensors indexed by the observation, for exact hand maths."""

    distribution = Categorical

    def __init__(self, logits, values):
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))
        self.values = nn.Parameter(torch.tensor(values))

    def forward(self, obs):
        idx = obs.long().squeeze(-1)
        return self.logits[idx], self.values[idx]


def _segment(terminated):
    return Segment(obs=torch.tensor([[0], [1], [2]]), actions=torch.tensor([1, 0]),
                   rewards=torch.tensor([1.0, 2.0]), terminated=terminated)


def test_loss_is_policy_gradient_minus_entropy_plus_half_squared_advantage():
    logits = [[0.0, math.log(3.0)], [0.0, 0.0], [5.0, 5.0]]  # pi(s0) = (1/4, 3/4), pi(s1) = (1/2, 1/2)
    values = [1.0, 2.0, 4.0]
    algo = A3C(AlgoConfig(gamma=0.5, entropy_beta=0.01, value_loss_coef=0.5))
    for terminated, bootstrap in [(False, 4.0), (True, 0.0)]:
        loss, stats = algo.loss(FixedNet(logits, values), _segment(terminated))
        r1 = 2.0 + 0.5 * bootstrap
        r0 = 1.0 + 0.5 * r1
        adv = [r0 - 1.0, r1 - 2.0]
        pg = -(math.log(0.75) * adv[0] + math.log(0.5) * adv[1])
        ent = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) + math.log(2.0)
        expected = pg - 0.01 * ent + 0.5 * (adv[0] ** 2 + adv[1] ** 2)
        assert loss.item() == pytest.approx(expected, rel=1e-5)
        assert stats["entropy"] == pytest.approx(ent / 2, rel=1e-5)
        # The value's diagnostics: 1 - Var(R - V) / Var(R), and the spread of R - V.
        var_r = ((r0 - r1) / 2) ** 2
        var_err = ((adv[0] - adv[1]) / 2) ** 2
        # (constant returns, as in the terminal case here, explain nothing: 0 by convention)
        assert stats["explained_variance"] == pytest.approx(1 - var_err / var_r if var_r else 0.0, abs=1e-5)
        assert stats["advantage_std"] == pytest.approx(math.sqrt(var_err), rel=1e-5)
        assert stats["value_spread"] == pytest.approx(0.5)  # V(s_0), V(s_1) = 1, 2: the bootstrap's is not a step


def test_the_advantage_does_not_push_gradients_into_the_value_through_the_policy_term():
    net = FixedNet([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], [0.0, 0.0, 0.0])
    algo = A3C(AlgoConfig(gamma=0.9, entropy_beta=0.0, value_loss_coef=0.5))
    loss, _ = algo.loss(net, _segment(terminated=True))
    loss.backward()
    # Only the value loss 0.5 (R - V)^2 reaches V: dL/dV_i = -(R_i - V_i).
    torch.testing.assert_close(net.values.grad, torch.tensor([-(1.0 + 0.9 * 2.0), -2.0, 0.0]))
    assert net.logits.grad[2].abs().sum() == 0  # the bootstrap state gets no policy gradient


def test_the_explained_variance_pooled_over_a_reports_batches_is_that_of_all_their_states():
    from asyncrl.algos.a3c import pooled_explained_variance, value_diagnostics

    # Two short batches (one environment's few steps each, as a continuous learner's): within each
    # the returns barely differ, so each batch's own ratio is dominated by noise in V.
    batches = [(torch.tensor([1.00, 1.01, 1.02]), torch.tensor([0.9, 1.1, 1.0])),
               (torch.tensor([3.00, 3.02]), torch.tensor([3.1, 2.9]))]
    stats = [value_diagnostics(returns, returns - values) for returns, values in batches]
    assert all(s["explained_variance"] < -10 for s in stats)
    # A report averages each statistic over its batches; the pooled moments survive that averaging.
    means = {key: sum(s[key] for s in stats) / len(stats) for key in stats[0]}
    returns = torch.cat([r for r, _ in batches])
    errors = torch.cat([r - v for r, v in batches])
    expected = 1 - errors.var(unbiased=False) / returns.var(unbiased=False)
    assert pooled_explained_variance(means) == pytest.approx(float(expected), rel=1e-5)
    assert 0.9 < pooled_explained_variance(means) < 1.0  # V does tell the two batches' states apart
