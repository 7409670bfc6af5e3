"""A3C LSTM: the recurrent state across segments and episodes, and backpropagation within a segment."""

from itertools import pairwise

import pytest
import torch

from asyncrl import AlgoConfig, EnvConfig, NetConfig, RunConfig, TrainConfig
from asyncrl.config import resolve
from asyncrl.envs import ActionSpec
from asyncrl.learner import run_learner
from asyncrl.nets import LSTMCore, build_network, reset_state_rows, state_rows, with_state_rows
from conftest import RecordingShared, recording_algorithm


def lstm_net(cells=16):
    return build_network((4,), 2, "actor_critic", NetConfig(hidden=(8,), core="lstm", lstm_cells=cells))


def test_an_lstm_follows_the_torso_and_steps_through_rows_as_one_sequence():
    net = lstm_net()
    assert isinstance(net.core, LSTMCore) and net.core.lstm.hidden_size == 16
    obs = torch.randn(5, 4)
    net.reset_state()
    logits_all, values_all = net(obs, [5])
    net.reset_state()
    stepped = [net(obs[i : i + 1]) for i in range(5)]  # one step at a time, as while acting
    torch.testing.assert_close(logits_all, torch.cat([logits for logits, _ in stepped]))
    torch.testing.assert_close(values_all, torch.cat([values for _, values in stepped]))
    net.reset_state()
    fresh_logits, _ = net(obs[1:2])
    assert not torch.allclose(fresh_logits, stepped[1][0])  # the state carried s_0 into s_1


def test_the_atari_lstm_has_256_cells_after_the_fully_connected_layer():
    config = resolve(TrainConfig(env=EnvConfig(env_id="ALE/Pong-v5"), net=NetConfig(core="lstm")))
    net = build_network((4, 84, 84), 6, "actor_critic", config.net)
    assert net.core.lstm.input_size == net.torso.fc.out_features == 256
    assert net.core.lstm.hidden_size == 256
    logits, values = net(torch.zeros(3, 4, 84, 84, dtype=torch.uint8))
    assert logits.shape == (3, 6) and values.shape == (3,)


def random_state(net, rows):
    torch.manual_seed(1)
    return tuple(None if pair is None else tuple(torch.randn_like(t) for t in pair)
                 for pair in net.zero_state(rows))


@pytest.mark.parametrize("shared_torso", [True, False])
def test_sequences_laid_end_to_end_replay_as_if_each_ran_alone(shared_torso):
    """Segments of several environments, some cut short by an episode's end: one batched pass from
    a state per environment gives what stepping each environment alone, row by row, gives."""
    net = build_network((4,), 2, "actor_critic",
                        NetConfig(hidden=(8,), core="lstm", lstm_cells=16, shared_torso=shared_torso))
    for lengths in ([6, 2, 4], [3, 3]):
        start = random_state(net, len(lengths))
        obs = torch.randn(sum(lengths), 4)
        net.state = start
        logits, values = net(obs, lengths)
        batched_end = net.state
        first = 0
        for k, n in enumerate(lengths):
            net.state = state_rows(start, [k])
            stepped = [net(obs[first + i : first + i + 1]) for i in range(n)]
            torch.testing.assert_close(logits[first : first + n], torch.cat([p for p, _ in stepped]))
            torch.testing.assert_close(values[first : first + n], torch.cat([v for _, v in stepped]))
            for got, alone in zip(_flat(state_rows(batched_end, [k])), _flat(net.state), strict=True):
                torch.testing.assert_close(got, alone)  # the state after its own last row
            first += n


def test_acting_on_a_batch_steps_each_environment_from_its_own_state():
    net = lstm_net()
    start = random_state(net, 3)
    obs = torch.randn(3, 4)
    net.state = start
    logits, _ = net(obs)  # row k: environment k's next step
    after = net.state
    for k in range(3):
        net.state = state_rows(start, [k])
        alone, _ = net(obs[k : k + 1])
        torch.testing.assert_close(logits[k : k + 1], alone)
        for got, expected in zip(_flat(state_rows(after, [k])), _flat(net.state), strict=True):
            torch.testing.assert_close(got, expected)


def test_replacing_and_resetting_rows_leaves_the_others_alone():
    net = lstm_net()
    state, new = random_state(net, 4), net.zero_state(2)
    replaced = with_state_rows(state, [3, 1], new)
    reset = reset_state_rows(state, [2])
    for before, got_replaced, got_reset in zip(_flat(state), _flat(replaced), _flat(reset), strict=True):
        torch.testing.assert_close(got_replaced[:, [0, 2]], before[:, [0, 2]])
        assert not got_replaced[:, [1, 3]].any()
        torch.testing.assert_close(got_reset[:, [0, 1, 3]], before[:, [0, 1, 3]])
        assert not got_reset[:, 2].any()


@pytest.mark.parametrize("n_envs", [1, 3])
def test_the_learner_carries_each_environments_state_between_segments_and_resets_it_at_its_episode_end(
        monkeypatch, n_envs):
    config = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1"),
                                 net=NetConfig(hidden=(8,), core="lstm", lstm_cells=16),
                                 algo=AlgoConfig(algo="a3c", t_max=5),
                                 run=RunConfig(workers=1, envs_per_worker=n_envs, frames=400 * n_envs)),
                     ActionSpec(False, 2))
    net = build_network((4,), 2, "actor_critic", config.net)
    records = recording_algorithm(monkeypatch)
    run_learner(0, config, RecordingShared(net), seed=0)

    assert all(not t.any() for t in _flat(records[0][1]))  # every first episode starts from zeros
    episode_ends = 0
    for (previous, _, reached), (_, start, _) in pairwise(records):
        assert len(previous) == n_envs
        for k, segment in enumerate(previous):
            start_k, reached_k = _flat(state_rows(start, [k])), _flat(state_rows(reached, [k]))
            if segment.terminated:
                episode_ends += 1
                assert all(not t.any() for t in start_k)
            else:
                # The next segment goes on from the state acting reached, as a constant: no graph
                # leads back into the previous segment (truncated backpropagation).
                for got, expected in zip(start_k, reached_k, strict=True):
                    assert got.grad_fn is None and not got.requires_grad
                    torch.testing.assert_close(got, expected)
    assert episode_ends >= 3 * n_envs and len(records) > episode_ends / n_envs + 3


def test_backpropagation_runs_through_the_steps_of_a_segment():
    net = lstm_net()
    obs = torch.randn(4, 4, requires_grad=True)
    logits, _ = net(obs, [4])
    logits[-1].sum().backward()
    # The last step's output depends on every earlier step of the segment through the LSTM state.
    assert (obs.grad[:-1].abs().sum(-1) > 0).all()


def _flat(state):
    return [t for pair in state if pair is not None for t in pair]
