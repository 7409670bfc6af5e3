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
from asyncrl.nets import ObsNorm, RewardNorm, build_network

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
    net = build_network((5,), ActionSpec(continuous=True, size=2), "actor_critic",
                        NetConfig(policy_std="softplus", min_var=0.05))
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

    # At sigma 1 some of 600 samples land outside [-2, 2] (at the default's 0.37 hardly any would).
    config = resolve(TrainConfig(env=EnvConfig(env_id="Pendulum-v1"), net=NetConfig(log_std_init=0.0),
                                 run=RunConfig(workers=1, frames=600)), ActionSpec(True, 1))
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


def test_a_state_independent_log_std_gives_every_state_the_same_variance():
    config = NetConfig(policy_std="log-std", log_std_init=-0.5, min_var=0.01)
    net = build_network((5,), ActionSpec(continuous=True, size=2), "actor_critic", config)
    assert not hasattr(net.head, "var")
    params, _ = net(torch.randn(4, 5) * 10)
    mean, var = Gaussian.split(params)
    # exp(2 * -0.5) + 0.01, whatever the state
    torch.testing.assert_close(var, torch.full((4, 2), math.exp(-1.0) + 0.01))
    assert len(set(mean[:, 0].tolist())) == 4  # the mean still depends on the state


def test_the_log_std_is_learnt_from_the_log_probability_and_entropy():
    config = NetConfig(policy_std="log-std", log_std_init=0.0, min_var=1e-6)
    net = build_network((3,), ActionSpec(continuous=True, size=1), "actor_critic", config)
    params, _ = net(torch.zeros(1, 3))
    # At log-std 0 (sigma 1, the floor negligible): d/d(log sigma) of log N(a; mu, 1) is (a - mu)^2 - 1.
    action = Gaussian.split(params)[0].detach() + 3.0
    Gaussian.log_prob(params, action).sum().backward()
    assert net.head.log_std.grad.item() == pytest.approx(3.0**2 - 1.0, rel=1e-4)
    net.zero_grad()
    params, _ = net(torch.zeros(1, 3))
    Gaussian.entropy(params).sum().backward()  # entropy 1/2 log(2 pi e sigma^2): d/d(log sigma) = 1
    assert net.head.log_std.grad.item() == pytest.approx(1.0, rel=1e-4)


def test_the_mlp_torso_can_use_tanh():
    net = build_network((4,), ActionSpec(True, 1), "actor_critic", NetConfig(activation="tanh", hidden=(64, 64)))
    assert [type(m) for m in net.torso.body] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh]
    assert net.torso(torch.randn(100, 4) * 100).abs().max() <= 1.0


def test_reward_scale_is_the_running_std_of_the_returns_clipped():
    norm = RewardNorm(clip=5.0)
    first, second = torch.tensor([[1.0], [3.0]]), torch.tensor([[-2.0], [6.0], [0.0]])
    norm.update(first)  # as two learners would, one batch each
    norm.update(second)
    everything = torch.cat([first, second]).double()
    torch.testing.assert_close(norm.var, everything.var(0, unbiased=False))
    std = everything.std(unbiased=False).item()
    scaled = norm.scale(torch.tensor([1.0, -2.0, 100.0]))
    torch.testing.assert_close(scaled, torch.tensor([1.0 / std, -2.0 / std, 5.0]))
    net = build_network((4,), ActionSpec(True, 1), "actor_critic", NetConfig(reward_norm=True))
    net.reward_norm.update(everything)
    fresh = build_network((4,), ActionSpec(True, 1), "actor_critic", NetConfig(reward_norm=True))
    fresh.load_state_dict(net.state_dict())
    torch.testing.assert_close(fresh.reward_norm.var, norm.var)


def test_the_learner_scales_rewards_by_the_spread_of_discounted_returns(monkeypatch):
    from asyncrl.config import AlgoConfig, EnvConfig, RunConfig, TrainConfig, resolve
    from asyncrl.learner import run_learner
    from conftest import RecordingShared, recording_algorithm

    gamma = 0.9
    # Segments of 5 steps: the first is divided by the starting std of 1 and clipped to [-10, 10], and
    # Pendulum's rewards reach -16: a longer first segment can meet some below -10, which cannot be read back.
    config = resolve(TrainConfig(env=EnvConfig(env_id="Pendulum-v1"), net=NetConfig(reward_norm=True),
                                 algo=AlgoConfig(gamma=gamma, t_max=5), run=RunConfig(workers=1, frames=600)),
                     ActionSpec(True, 1))
    net = build_network((3,), ActionSpec(True, 1), "actor_critic", config.net)

    class Shared(RecordingShared):
        """Records the returns folded in and the scale each segment's rewards were divided by."""

        def __init__(self, net):
            super().__init__(net)
            self.observed, self.stds = [], []

        def pull(self, tensors):
            super().pull(tensors)
            self.stds.append(math.sqrt(self.net.reward_norm.var.item() + 1e-8))

        def observe_returns(self, returns):
            self.observed.append(returns.squeeze(1))
            super().observe_returns(returns)

    shared = Shared(net)
    segments = recording_algorithm(monkeypatch)
    run_learner(0, config, shared, seed=0)
    assert {len(update) for update, _, _ in segments} == {1}  # one environment: one segment per update
    raw = torch.cat([update[0].rewards.double() * std for (update, _, _), std in zip(segments, shared.stds)])
    assert len(raw) == 600 and (raw < 0).all() and raw.min() > -17  # Pendulum's raw rewards: in [-16.3, 0]
    # The returns folded in are each step's discounted return since its episode began (200 steps).
    expected, running = [], 0.0
    for t, r in enumerate(raw.tolist()):
        running = (0.0 if t % 200 == 0 else gamma * running) + r
        expected.append(running)
    torch.testing.assert_close(torch.cat(shared.observed), torch.tensor(expected, dtype=torch.float64))
    assert shared.net.reward_norm.count.item() == 600
    assert shared.stds[-1] > 5  # the scale grew from its start at 1 to the returns' spread
