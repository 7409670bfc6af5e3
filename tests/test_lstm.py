"""A3C LSTM: the recurrent state across segments and episodes, and backpropagation within a segment."""

from itertools import pairwise

import torch

from asyncrl import AlgoConfig, EnvConfig, NetConfig, RunConfig, TrainConfig
from asyncrl.config import resolve
from asyncrl.envs import ActionSpec
from asyncrl.learner import run_learner
from asyncrl.nets import LSTMCore, build_network
from conftest import RecordingShared, recording_algorithm


def lstm_net(cells=16):
    return build_network((4,), 2, "actor_critic", NetConfig(hidden=(8,), core="lstm", lstm_cells=cells))


def test_an_lstm_follows_the_torso_and_steps_through_rows_as_one_sequence():
    net = lstm_net()
    assert isinstance(net.core, LSTMCore) and net.core.lstm.hidden_size == 16
    obs = torch.randn(5, 4)
    net.reset_state()
    logits_all, values_all = net(obs)
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


def test_the_learner_carries_the_state_between_segments_detached_and_resets_it_at_episode_end(monkeypatch):
    config = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1"),
                                 net=NetConfig(hidden=(8,), core="lstm", lstm_cells=16),
                                 algo=AlgoConfig(algo="a3c", t_max=5),
                                 run=RunConfig(workers=1, frames=400)), ActionSpec(False, 2))
    net = build_network((4,), 2, "actor_critic", config.net)
    records = recording_algorithm(monkeypatch)
    run_learner(0, config, RecordingShared(net), seed=0)

    assert records[0][1] is None  # the first episode starts from zeros
    episode_ends = 0
    for (previous, _, reached), (_, start, _) in pairwise(records):
        if previous.terminated:
            episode_ends += 1
            assert start is None
        else:
            # The next segment goes on from the state acting reached, as a constant: no graph
            # leads back into the previous segment (truncated backpropagation).
            for got, expected in zip(_flat(start), _flat(reached)):
                assert got.grad_fn is None and not got.requires_grad
                torch.testing.assert_close(got, expected)
    assert episode_ends >= 3 and len(records) > episode_ends + 3


def test_backpropagation_runs_through_the_steps_of_a_segment():
    net = lstm_net()
    obs = torch.randn(4, 4, requires_grad=True)
    logits, _ = net(obs)
    logits[-1].sum().backward()
    # The last step's output depends on every earlier step of the segment through the LSTM state.
    assert (obs.grad[:-1].abs().sum(-1) > 0).all()


def _flat(state):
    return [t for pair in state if pair is not None for t in pair]
