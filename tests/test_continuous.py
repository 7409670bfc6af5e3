"""Continuous actions: the Gaussian policy, its loss, clipping at the environment, observation statistics."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Normal

import asyncrl
from asyncrl import AlgoConfig, NetConfig
from asyncrl.algos import A3C, Segment
from asyncrl.algos.policies import Gaussian
from asyncrl.envs import ActionSpec
from asyncrl.nets import ObsNorm, build_network

MEAN = torch.tensor([[0.0, 1.0], [-0.5, 2.0], [3.0, -1.0]])
VAR = torch.tensor([[1.0, 0.25], [2.0, 0.5], [0.01, 4.0]])
ACTIONS = torch.tensor([[0.3, 1.5], [-2.0, 2.0], [3.05, 0.0]])


def test_gaussian_log_probability_and_entropy_match_torch_normal():
    params = torch.cat([MEAN, VAR], dim=-1)
    normal = Normal(MEAN, VAR.sqrt())
    torch.testing.assert_close(Gaussian.log_prob(params, ACTIONS), normal.log_prob(ACTIONS).sum(-1))
    torch.testing.assert_close(Gaussian.entropy(params), normal.entropy().sum(-1))
    # The hand formula too: 1/2 (log(2 pi sigma^2) + 1) per dimension.
    assert Gaussian.entropy(params)[0].item() == pytest.approx(
        0.5 * (math.log(2 * math.pi) + 1) + 0.5 * (math.log(2 * math.pi * 0.25) + 1))


def test_gaussian_head_gives_means_and_positive_variances_per_dimension():
    net = build_network((5,), ActionSpec(continuous=True, size=3), "actor_critic")
    params, values = net(torch.randn(4, 5) * 100)
    assert params.shape == (4, 6) and values.shape == (4,)
    mean, var = Gaussian.split(params)
    assert (var > 0).all()
    one = params[:1]
    assert Gaussian.mode(one)[0] == pytest.approx(mean[0].detach().numpy())
    assert Gaussian.sample(one)[0].shape == (3,)


def test_the_variance_never_falls_below_its_floor():
    net = build_network((5,), ActionSpec(continuous=True, size=2), "actor_critic", NetConfig(min_var=0.05))
    with torch.no_grad():
        net.head.var.weight.zero_()
        net.head.var.bias.fill_(-1e4)  # the softplus underflows to 0
    _, var = Gaussian.split(net(torch.randn(3, 5))[0])
    assert torch.allclose(var, torch.full_like(var, 0.05))


class FixedGaussianNet(nn.Module):
    distribution = Gaussian

    def __init__(self):
        super().__init__()
        self.mean = nn.Parameter(MEAN[:, :1].clone())
        self.var = nn.Parameter(VAR[:, :1].clone())
        self.values = nn.Parameter(torch.tensor([1.0, 2.0, 4.0]))

    def forward(self, obs):
        idx = obs.long().squeeze(-1)
        return torch.cat([self.mean[idx], self.var[idx]], dim=-1), self.values[idx]


def test_a3c_loss_with_a_gaussian_policy_uses_the_normal_log_probability_and_entropy():
    actions = ACTIONS[:2, :1]
    segment = Segment(obs=torch.tensor([[0], [1], [2]]), actions=actions, rewards=torch.tensor([1.0, 2.0]),
                      terminated=False)
    algo = A3C(AlgoConfig(gamma=0.5, entropy_beta=1e-4, value_loss_coef=0.5))
    loss, stats = algo.loss(FixedGaussianNet(), segment)
    r1 = 2.0 + 0.5 * 4.0
    r0 = 1.0 + 0.5 * r1
    adv = torch.tensor([r0 - 1.0, r1 - 2.0])
    normal = Normal(MEAN[:2, :1], VAR[:2, :1].sqrt())
    pg = -(normal.log_prob(actions).sum(-1) * adv).sum()
    ent = normal.entropy().sum()
    expected = pg - 1e-4 * ent + 0.5 * adv.pow(2).sum()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert stats["entropy"] == pytest.approx(ent.item() / 2, rel=1e-5)


def test_actions_reach_the_environment_clipped_to_its_bounds():
    env = asyncrl.make_env("Pendulum-v1", seed=0)
    env.step(np.array([5.0], dtype=np.float32))
    assert env.unwrapped.last_u == pytest.approx(2.0)
    env.step(np.array([-7.0], dtype=np.float32))
    assert env.unwrapped.last_u == pytest.approx(-2.0)


def test_the_learner_keeps_the_unclipped_sample_for_the_log_probability(monkeypatch):
    from asyncrl.config import EnvConfig, RunConfig, TrainConfig, resolve
    from asyncrl.learner import run_learner
    from conftest import RecordingShared, recording_algorithm

    config = resolve(TrainConfig(env=EnvConfig(env_id="Pendulum-v1"), run=RunConfig(workers=1, frames=600)),
                     ActionSpec(True, 1))
    net = build_network((3,), ActionSpec(True, 1), "actor_critic", config.net)
    segments = recording_algorithm(monkeypatch)
    run_learner(0, config, RecordingShared(net), seed=0)
    actions = torch.cat([s.actions for update, _, _ in segments for s in update])
    assert actions.dtype == torch.float32 and actions.shape == (600, 1)
    assert actions.abs().max() > 2.0  # outside Pendulum's [-2, 2]: stored as sampled


def test_observation_statistics_merge_batches_into_the_running_mean_and_variance():
    torch.manual_seed(0)
    data = torch.randn(1000, 3) * torch.tensor([1.0, 10.0, 0.1]) + torch.tensor([5.0, -3.0, 0.0])
    norm = ObsNorm(3)
    for batch in data.split(7):
        norm.update(batch)
    torch.testing.assert_close(norm.mean, data.double().mean(0))
    torch.testing.assert_close(norm.var, data.double().var(0, unbiased=False))
    assert norm.count.item() == 1000
    standardised = norm(data)
    torch.testing.assert_close(standardised.mean(0), torch.zeros(3), atol=1e-4, rtol=0)
    assert standardised.dtype == torch.float32


def test_normalising_networks_keep_their_statistics_in_the_state_dict():
    net = build_network((4,), ActionSpec(True, 1), "actor_critic", NetConfig(obs_norm=True))
    net.obs_norm.update(torch.ones(2, 4))
    state = net.state_dict()
    assert state["obs_norm.count"].item() == 2
    fresh = build_network((4,), ActionSpec(True, 1), "actor_critic", NetConfig(obs_norm=True))
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.obs_norm.mean, torch.ones(4, dtype=torch.float64))
