"""A learner's K environments: Gymnasium's pipeline, or ALE's vector environment (--vector-env)."""

import itertools

import numpy as np
import pytest
import torch

import asyncrl.learner
from asyncrl.algos.segment import Segment
from asyncrl.config import AlgoConfig, EnvConfig, RunConfig, TrainConfig, resolve
from asyncrl.envgroup import SeparateEnvs, VectorAtari, build_env_group, uses_vector_env
from asyncrl.envs import ActionSpec, make_env
from asyncrl.nets import build_network
from conftest import RecordingShared, recording_segment_copies


@pytest.mark.parametrize("env_id", ["ALE/Breakout-v5", "ALE/Pong-v5"])
def test_the_vector_env_plays_the_pipelines_game_frame_for_frame(env_id):
    """The same actions from the same start (no no-op starts) give the same frames, clipped rewards
    and life-loss terminals at every step, and the same whole game's raw score and length. Where
    the pipeline steps a NOOP after a lost life, the vector environment is given one; the frame
    stacks agree in full once they hold no padding."""
    pipeline = SeparateEnvs([make_env(env_id, training=True, noop_max=0)])
    vector = VectorAtari(EnvConfig(env_id=env_id, noop_max=0, vector_env=True), 1)
    for first in zip(pipeline.reset(seed=3), vector.reset(seed=3), strict=True):
        np.testing.assert_array_equal(first[0][-1], first[1][-1])
    rng = np.random.default_rng(0)
    n_actions = pipeline.action_space.n
    assert vector.action_space.n == n_actions
    since_start, lives_lost, rewarded = 0, 0, 0.0
    for _ in range(5_000):
        action = {0: int(rng.integers(n_actions))}
        (p, p_games), (v, v_games) = pipeline.step(action), vector.step(action)
        p, v = p[0], v[0]
        since_start += 1
        np.testing.assert_array_equal(p.obs[-1], v.obs[-1])
        if since_start >= p.obs.shape[0] - 1:
            np.testing.assert_array_equal(p.obs, v.obs)
        assert (p.reward, p.terminated, p.truncated) == (v.reward, v.terminated, v.truncated)
        assert -1.0 <= v.reward <= 1.0
        rewarded += abs(v.reward)
        assert [(g.score, g.length) for g in p_games] == [(g.score, g.length) for g in v_games]
        if p_games:
            break
        if p.terminated:  # a lost life: the pipeline's reset steps a NOOP, the game goes on
            lives_lost += 1
            pipeline_start = pipeline.next_start(0)
            vector.step({0: VectorAtari.NOOP})
            np.testing.assert_array_equal(pipeline_start[-1], vector.next_start(0)[-1])
            since_start = 0
    assert p_games and p_games[0].length > 100 and rewarded > 0
    assert lives_lost == (4 if env_id == "ALE/Breakout-v5" else 0)  # the fifth ends the game
    for group in (pipeline, vector):
        group.close()


def test_the_vector_env_is_for_atari_training_with_the_pipelines_own_action_repeat():
    assert uses_vector_env(EnvConfig(env_id="ALE/Pong-v5", vector_env=True))
    assert uses_vector_env(EnvConfig(env_id="ALE/Pong-v5"))  # the default
    assert not uses_vector_env(EnvConfig(env_id="ALE/Pong-v5", vector_env=False))
    assert not uses_vector_env(EnvConfig(env_id="ALE/Pong-v5", vector_env=True, frameskip=4, action_repeat=1))
    assert not uses_vector_env(EnvConfig(env_id="CartPole-v1", vector_env=True))
    config = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1", vector_env=True),
                                 run=RunConfig(envs_per_worker=2)))
    group = build_env_group(config)
    assert isinstance(group, SeparateEnvs) and len(group.reset(seed=0)) == 2


def test_the_vector_env_finds_the_game_of_a_legacy_id_and_keeps_raw_rewards_when_asked():
    vector = VectorAtari(EnvConfig(env_id="SpaceInvadersNoFrameskip-v4", clip_rewards=False,
                                   terminal_on_life_loss=False), 2)
    first = vector.reset(seed=1)
    assert len(first) == 2 and first[0].shape == (4, 84, 84) and first[0].dtype == np.uint8
    rewards = []
    for _ in range(300):
        steps, _ = vector.step({0: 1, 1: 1})  # FIRE
        rewards += [s.reward for s in steps.values()]
        assert not any(s.terminated for s in steps.values())  # a lost life is no terminal here
    assert max(rewards) > 1  # Space Invaders scores 5 to 30 per invader
    vector.close()


class _GamesShared(RecordingShared):
    def __init__(self, net):
        super().__init__(net)
        self.games = []

    def report(self, kind, worker, payload):
        if kind == "episode":
            self.games.append(payload)


@pytest.mark.parametrize("vector_env", [True, False])
def test_an_atari_learners_environments_keep_their_segments_and_whole_games(monkeypatch, vector_env):
    """Three Breakouts in one learner: each environment's segments follow on from each other until
    a terminal (a lost life), each agent step counts 4 frames, and the games reported are whole
    games (5 lives) of every environment, with raw scores."""
    records = recording_segment_copies(monkeypatch)
    config = resolve(TrainConfig(env=EnvConfig(env_id="ALE/Breakout-v5", vector_env=vector_env),
                                 algo=AlgoConfig(algo="a3c", t_max=5),
                                 run=RunConfig(workers=1, envs_per_worker=3, frames=8_000)))
    net = build_network((4, 84, 84), ActionSpec(False, 4), "actor_critic", config.net)
    shared = _GamesShared(net)
    asyncrl.learner.run_learner(0, config, shared, seed=1)

    segments_per_update = [segments for segments, _ in records]
    assert all(len(segments) == 3 for segments in segments_per_update)
    assert shared.frames == 4 * sum(len(s) for segments in segments_per_update for s in segments)
    terminals = 0
    for k in range(3):
        mine: list[Segment] = [segments[k] for segments in segments_per_update]
        for seg, following in itertools.pairwise(mine):
            assert 1 <= len(seg) <= 5
            if seg.terminated:
                terminals += 1
            else:
                assert len(seg) == 5
                torch.testing.assert_close(following.obs[0], seg.obs[-1])
    assert terminals >= 3 * 5  # every environment lost at least a game's lives
    assert {g["env"] for g in shared.games} == {0, 1, 2}
    assert all(g["length"] > 50 and g["return"] >= 0 and g["return"] == int(g["return"]) for g in shared.games)
