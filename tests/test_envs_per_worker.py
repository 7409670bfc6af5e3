"""A learner that steps several environments at once (--envs-per-worker)."""

import itertools

import numpy as np
import pytest
import torch

import asyncrl.learner
from asyncrl.algos import make_algorithm
from asyncrl.algos.segment import Segment
from asyncrl.config import AlgoConfig, EnvConfig, RunConfig, TrainConfig, resolve
from asyncrl.envs import ActionSpec
from asyncrl.nets import build_network
from conftest import RecordingShared, assert_one_line_error, recording_segment_copies


def _segments(obs_dim: int, lengths: list[int], terminated: list[bool], seed: int = 0) -> list[Segment]:
    g = torch.Generator().manual_seed(seed)
    return [
        Segment(obs=torch.randn(n + 1, obs_dim, generator=g), actions=torch.randint(0, 3, (n,), generator=g),
                rewards=torch.randn(n, generator=g), terminated=term, next_action=int(k % 3))
        for k, (n, term) in enumerate(zip(lengths, terminated, strict=True))
    ]


def _grads(net, loss):
    net.zero_grad()
    loss.backward()
    return [p.grad.clone() for p in net.parameters()]


@pytest.mark.parametrize("algo", ["a3c", "one-step-q", "one-step-sarsa", "n-step-q"])
def test_the_loss_of_several_segments_is_the_sum_of_their_losses(algo):
    """One batched forward over K environments' segments gives each segment's loss and gradient,
    accumulated: segments of different lengths, terminal or not, do not mix."""
    head = "actor_critic" if algo == "a3c" else "q"
    torch.manual_seed(0)
    net = build_network((4,), ActionSpec(False, 3), head)
    target = build_network((4,), ActionSpec(False, 3), head) if head == "q" else None
    method = make_algorithm(AlgoConfig(algo=algo, gamma=0.9, entropy_beta=0.01))
    segments = _segments(4, [5, 2, 5], [False, True, False])

    batched, stats = method.loss(net, segments, target)
    batched_grads = _grads(net, batched)
    singles = [method.loss(net, s, target)[0] for s in segments]
    single_grads = [_grads(net, loss) for loss in singles]

    torch.testing.assert_close(batched, sum(singles))
    for k, grad in enumerate(batched_grads):
        torch.testing.assert_close(grad, sum(g[k] for g in single_grads))
    assert all(np.isfinite(v) for v in stats.values())


def test_acting_on_a_batch_gives_one_action_per_state():
    net = build_network((4,), ActionSpec(False, 3), "actor_critic")
    a3c = make_algorithm(AlgoConfig(algo="a3c"))
    actions = a3c.act(net, torch.randn(7, 4))
    assert len(actions) == 7 and all(isinstance(a, int) and 0 <= a < 3 for a in actions)
    q = make_algorithm(AlgoConfig(algo="one-step-q"))
    q.epsilon = 0.0
    qnet = build_network((4,), ActionSpec(False, 3), "q")
    states = torch.randn(5, 4)
    assert q.act(qnet, states) == qnet(states).argmax(-1).tolist()
    gaussian = build_network((4,), ActionSpec(True, 2), "actor_critic")
    assert [a.shape for a in a3c.act(gaussian, torch.randn(3, 4))] == [(2,)] * 3


@pytest.mark.parametrize("algo", ["a3c", "one-step-sarsa"])
def test_each_environment_keeps_its_own_consecutive_segments(monkeypatch, algo):
    """Three CartPoles in one learner: every environment's segments follow on from each other
    (or start a new episode after a terminal one), end early only at an episode's end, and the
    frame counter grows by the steps of all three."""
    records = recording_segment_copies(monkeypatch, note=lambda: shared.frames)  # frames before
    config = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1"), algo=AlgoConfig(algo=algo, t_max=5,
                                                                                       async_update=5),
                                 run=RunConfig(workers=1, envs_per_worker=3, frames=3_000)))
    head = "actor_critic" if algo == "a3c" else "q"
    net = build_network((4,), ActionSpec(False, 2), head, config.net)
    target = build_network((4,), ActionSpec(False, 2), head, config.net) if head == "q" else None
    shared = RecordingShared(net, target)
    asyncrl.learner.run_learner(0, config, shared, seed=1)

    assert all(len(segments) == 3 for segments, _ in records)
    for (segments, before), (_, after) in itertools.pairwise(records):
        assert after - before == sum(len(s) for s in segments)
    episodes_ended = 0
    for k in range(3):
        mine = [segments[k] for segments, _ in records]
        for seg, following in itertools.pairwise(mine):
            assert 1 <= len(seg) <= 5
            if seg.terminated:
                episodes_ended += 1
                assert not torch.equal(following.obs[0], seg.obs[-1])
            else:
                assert len(seg) == 5  # 3,000 frames are far too few to reach CartPole's time limit
                torch.testing.assert_close(following.obs[0], seg.obs[-1])
                if algo == "one-step-sarsa":
                    assert following.actions[0].item() == seg.next_action  # a' is taken next
    assert episodes_ended >= 3  # 3,000 steps of a random-ish CartPole: many episodes in each env


def test_bad_envs_per_worker_is_one_line(cli):
    assert_one_line_error(cli("train", "--env", "CartPole-v1", "--envs-per-worker", "0"), "--envs-per-worker")


def test_a_learner_runs_with_the_intra_op_threads_it_is_given():
    config = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1"),
                                 run=RunConfig(workers=1, torch_threads=2, frames=50)))
    net = build_network((4,), ActionSpec(False, 2), "actor_critic", config.net)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # so that only the learner can have made it 2
    try:
        asyncrl.learner.run_learner(0, config, RecordingShared(net), seed=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_bad_torch_threads_is_one_line(cli):
    assert_one_line_error(cli("train", "--env", "CartPole-v1", "--torch-threads", "0"), "--torch-threads")
