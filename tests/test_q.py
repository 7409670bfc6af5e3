"""The value-based methods: their targets on hand-made segments, exploration, and the target network."""

import numpy as np
import pytest
import torch
from torch import nn

from asyncrl import AlgoConfig
from asyncrl.algos import QLearning, Segment
from asyncrl.algos.q import (
    FINAL_EPSILONS,
    epsilon_at,
    n_step_q_targets,
    one_step_q_targets,
    one_step_sarsa_targets,
    sample_final_epsilon,
)
from conftest import RecordingShared

REWARDS = torch.tensor([1.0, 0.0, 2.0])
# Q-(s_1..s_3, .) for two actions
NEXT_Q = torch.tensor([[3.0, 5.0], [4.0, -1.0], [10.0, 6.0]])


def test_one_step_q_bootstraps_from_the_target_networks_max():
    torch.testing.assert_close(one_step_q_targets(REWARDS, NEXT_Q.clone(), False, 0.5),
                               torch.tensor([1 + 0.5 * 5, 0 + 0.5 * 4, 2 + 0.5 * 10]))
    torch.testing.assert_close(one_step_q_targets(REWARDS, NEXT_Q.clone(), True, 0.5),
                               torch.tensor([1 + 0.5 * 5, 0 + 0.5 * 4, 2.0]))


def test_one_step_sarsa_bootstraps_from_the_action_taken_next():
    next_actions = torch.tensor([0, 1, 1])
    torch.testing.assert_close(one_step_sarsa_targets(REWARDS, NEXT_Q.clone(), next_actions, False, 0.5),
                               torch.tensor([1 + 0.5 * 3, 0 + 0.5 * -1, 2 + 0.5 * 6]))
    torch.testing.assert_close(one_step_sarsa_targets(REWARDS, NEXT_Q.clone(), next_actions, True, 0.5),
                               torch.tensor([1 + 0.5 * 3, 0 + 0.5 * -1, 2.0]))


def test_n_step_q_walks_back_from_the_last_states_max():
    last_q = torch.tensor([[10.0, 6.0]])
    # R = 10; R = 2 + 5 = 7; R = 0 + 3.5; R = 1 + 1.75
    torch.testing.assert_close(n_step_q_targets(REWARDS, last_q, False, 0.5), torch.tensor([2.75, 3.5, 7.0]))
    torch.testing.assert_close(n_step_q_targets(REWARDS, last_q, True, 0.5), torch.tensor([1.5, 1.0, 2.0]))


class TableQ(nn.Module):
    """Q values looked up by the observation's index, so losses can be checked by hand."""

    def __init__(self, table):
        super().__init__()
        self.table = nn.Parameter(torch.tensor(table))

    def forward(self, obs):
        return self.table[obs.long().squeeze(-1)]


@pytest.mark.parametrize("algo, targets", [
    ("one-step-q", [1 + 0.5 * 5, 0 + 0.5 * 4]),
    ("one-step-sarsa", [1 + 0.5 * 5, 0 + 0.5 * 2]),  # a_1 = 1, and a_2 = 1 chosen at s_2
    ("n-step-q", [1 + 0.5 * (0 + 0.5 * 4), 0 + 0.5 * 4]),
])
def test_the_loss_regresses_q_of_the_taken_actions_onto_the_target_networks_targets(algo, targets):
    net = TableQ([[1.0, 2.0], [0.0, -1.0], [0.0, 0.0]])
    target = TableQ([[0.0, 0.0], [3.0, 5.0], [4.0, 2.0]])
    segment = Segment(obs=torch.tensor([[0], [1], [2]]), actions=torch.tensor([0, 1]),
                      rewards=torch.tensor([1.0, 0.0]), terminated=False, next_action=1)
    loss, stats = QLearning(AlgoConfig(algo=algo, gamma=0.5)).loss(net, segment, target)
    q_taken = [1.0, -1.0]
    assert loss.item() == pytest.approx(sum((y - q) ** 2 for y, q in zip(targets, q_taken)))
    # Q's spread over the segment's states s_0, s_1: action 0 (1, 0) and action 1 (2, -1).
    assert stats["q_spread"] == pytest.approx((0.5 + 1.5) / 2)
    loss.backward()
    assert target.table.grad is None  # the target network is never trained


def test_each_learner_draws_its_final_epsilon_from_the_papers_distribution():
    rng = np.random.default_rng(0)
    draws = np.array([sample_final_epsilon(rng) for _ in range(20000)])
    assert set(np.unique(draws)) == set(FINAL_EPSILONS)
    for value, prob in zip((0.1, 0.01, 0.5), (0.4, 0.3, 0.3)):
        assert abs(np.mean(draws == value) - prob) < 0.015


def test_each_environment_of_a_learner_is_an_actor_with_its_own_final_epsilon():
    finals = []
    for seed in range(500):
        q = QLearning(AlgoConfig(algo="one-step-q", epsilon_frames=1000))
        q.setup_exploration(np.random.default_rng(seed), n_envs=16)
        assert len(q.final_epsilons) == 16
        finals.append(q.final_epsilons)
    finals = np.array(finals)
    for value, prob in zip((0.1, 0.01, 0.5), (0.4, 0.3, 0.3)):
        assert abs(np.mean(finals == value) - prob) < 0.015
    # Draws are independent per environment, not one per learner repeated 16 times.
    assert np.mean([len(set(row)) > 1 for row in finals]) > 0.99


def test_each_environment_anneals_towards_its_own_epsilon_and_acts_with_it():
    q = QLearning(AlgoConfig(algo="one-step-q", epsilon_frames=1000))
    q.setup_exploration(np.random.default_rng(0), n_envs=2)
    q.final_epsilons = np.array([0.0, 1.0])  # environment 0 ends greedy, environment 1 random
    q.begin_segment(500)
    np.testing.assert_allclose(q.epsilons, [0.5, 1.0])
    q.begin_segment(5000)
    net = TableQ([[0.0, 9.0, 0.0, 0.0]])  # action 1 is greedy in every state
    states = torch.zeros(2, 1, dtype=torch.int64)
    # The rows come from environments 1 and 0, in that order (a learner acting on a subset).
    chosen = np.array([q.act(net, states, envs=[1, 0]) for _ in range(400)])
    assert (chosen[:, 1] == 1).all()
    assert set(chosen[:, 0]) == {0, 1, 2, 3}
    assert q.epsilon == pytest.approx(0.5)  # what a learner logs: the mean over its environments


def test_epsilon_anneals_linearly_from_one_and_then_stays():
    assert epsilon_at(0, 0.1, 1000) == 1.0
    assert epsilon_at(500, 0.1, 1000) == pytest.approx(0.55)
    assert epsilon_at(1000, 0.1, 1000) == pytest.approx(0.1)
    assert epsilon_at(5000, 0.1, 1000) == pytest.approx(0.1)


class CountingTableQ(TableQ):
    def __init__(self, table):
        super().__init__(table)
        self.batches = []

    def forward(self, obs):
        self.batches.append(len(obs))
        return super().forward(obs)


@pytest.mark.parametrize("algo, batch", [("one-step-q", 2), ("one-step-sarsa", 2), ("n-step-q", 1)])
def test_the_target_network_runs_once_per_segment(algo, batch):
    target = CountingTableQ([[0.0, 0.0], [3.0, 5.0], [4.0, 2.0]])
    segment = Segment(obs=torch.tensor([[0], [1], [2]]), actions=torch.tensor([0, 1]),
                      rewards=torch.tensor([1.0, 0.0]), terminated=False, next_action=1)
    QLearning(AlgoConfig(algo=algo)).loss(TableQ([[1.0, 2.0], [0.0, -1.0], [0.0, 0.0]]), segment, target)
    assert target.batches == [batch]


def test_the_target_network_is_copied_only_when_the_frame_count_passes_its_interval():
    from asyncrl.config import EnvConfig, RunConfig, TrainConfig, resolve
    from asyncrl.learner import run_learner
    from asyncrl.nets import build_network

    config = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1"),
                                 algo=AlgoConfig(algo="one-step-q", target_update=300),
                                 run=RunConfig(workers=1, frames=2000)))
    net = build_network((4,), 2, "q", config.net)
    target = build_network((4,), 2, "q", config.net)
    shared = RecordingShared(net, target)
    run_learner(0, config, shared, seed=0)
    assert len(shared.target_updates) == shared.frames // 300 == 6
    for k, frames in enumerate(shared.target_updates, start=1):
        assert k * 300 <= frames < k * 300 + config.algo.async_update
    assert not torch.equal(net.head.q.weight, target.head.q.weight)  # trained since the last copy


@pytest.mark.parametrize("env_id, target_update", [("ALE/Pong-v5", 40_000), ("CartPole-v1", 2_000)])
def test_the_target_interval_defaults_per_environment_family_and_an_explicit_one_wins(env_id, target_update):
    from asyncrl.config import EnvConfig, TrainConfig, resolve

    config = TrainConfig(env=EnvConfig(env_id=env_id), algo=AlgoConfig(algo="one-step-q"))
    assert resolve(config).algo.target_update == target_update
    config.algo.target_update = 123
    assert resolve(config).algo.target_update == 123
