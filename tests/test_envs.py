"""The paper's Atari pipeline, built from Gymnasium wrappers, and plain Gymnasium ids."""

import cv2
import gymnasium as gym
import numpy as np
import pytest

from asyncrl import ConfigError, make_env


def test_atari_observation_is_four_stacked_uint8_84x84_frames():
    env = make_env("ALE/Pong-v5", seed=0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (4, 84, 84)
    obs, *_ = env.step(0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8


def test_atari_defaults_are_the_papers_and_sticky_actions_are_one_flag_away():
    env = make_env("ALE/Pong-v5")
    assert env.unwrapped._frameskip == 1
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0
    sticky = make_env("ALE/Pong-v5", repeat_action_probability=0.25)
    assert sticky.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)


def test_each_frame_is_the_max_of_the_last_two_raw_frames_after_repeating_the_action_four_times():
    env = make_env("ALE/Breakout-v5", noop_max=0)
    raw = gym.make("ALE/Breakout-v5", frameskip=1, repeat_action_probability=0.0)
    env.reset(seed=3)
    raw.reset(seed=3)
    ale = raw.unwrapped.ale
    rng = np.random.default_rng(0)
    for _ in range(40):
        action = int(rng.integers(env.action_space.n))
        obs, *_ = env.step(action)
        screens = []
        for _ in range(4):
            raw.step(action)
            screens.append(ale.getScreenGrayscale())
        expected = cv2.resize(np.maximum(screens[2], screens[3]), (84, 84), interpolation=cv2.INTER_AREA)
        np.testing.assert_array_equal(obs[-1], expected)


def test_stack_keeps_the_newest_frame_last():
    env = make_env("ALE/Breakout-v5")
    prev, _ = env.reset(seed=1)
    for action in [1, 2, 3, 2, 1, 3]:
        obs, *_ = env.step(action)
        np.testing.assert_array_equal(obs[:-1], prev[1:])
        prev = obs


def test_noop_starts_take_between_1_and_noop_max_frames():
    env = make_env("ALE/Pong-v5")
    starts = []
    for seed in range(12):
        env.reset(seed=seed)
        starts.append(env.unwrapped.ale.getEpisodeFrameNumber())
    assert all(1 <= s <= 30 for s in starts), starts
    assert len(set(starts)) > 3, starts
    no_noops = make_env("ALE/Pong-v5", noop_max=0)
    no_noops.reset(seed=0)
    assert no_noops.unwrapped.ale.getEpisodeFrameNumber() == 0


def _play(env, seed, steps=4000):
    env.reset(seed=seed)
    env.action_space.seed(seed)
    rewards, episode = [], None
    for _ in range(steps):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        rewards.append(reward)
        if terminated or truncated:
            episode = info.get("episode")
            break
    return rewards, episode


def test_rewards_are_clipped_only_when_training_and_the_episode_score_stays_raw():
    train_rewards, train_episode = _play(make_env("ALE/SpaceInvaders-v5", training=True, terminal_on_life_loss=False),
                                        seed=5)
    eval_rewards, eval_episode = _play(make_env("ALE/SpaceInvaders-v5", training=False), seed=5)
    assert train_episode is not None and eval_episode is not None
    assert max(eval_rewards) > 1  # Space Invaders scores 5 to 30 per invader
    np.testing.assert_allclose(train_rewards, np.clip(eval_rewards, -1, 1))
    assert float(train_episode["r"]) == float(eval_episode["r"]) == pytest.approx(sum(eval_rewards))


def test_life_loss_ends_the_learning_episode_unless_switched_off_and_the_game_goes_on():
    env = make_env("ALE/Breakout-v5", training=True)  # on by default
    env.reset(seed=0)
    env.action_space.seed(0)
    ale = env.unwrapped.ale
    lives_at_terminal, whole_game = [], None
    for _ in range(20000):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            lives_at_terminal.append(ale.lives())
            if "episode" in info:
                whole_game = info["episode"]
                break
            frame = ale.getEpisodeFrameNumber()
            env.reset()
            assert ale.getEpisodeFrameNumber() > frame  # no restart: the same game continues
    assert lives_at_terminal == [4, 3, 2, 1, 0]
    assert whole_game is not None and int(whole_game["l"]) > 0

    plain = make_env("ALE/Breakout-v5", training=True, terminal_on_life_loss=False)
    plain.reset(seed=0)
    plain.action_space.seed(0)
    for _ in range(20000):
        _, _, terminated, truncated, _ = plain.step(plain.action_space.sample())
        if terminated or truncated:
            break
    assert plain.unwrapped.ale.lives() == 0


def test_other_gymnasium_ids_work_unchanged():
    env = make_env("CartPole-v1", seed=0)
    obs, _ = env.reset()
    assert obs.shape == (4,) and obs.dtype == np.float32
    assert env.action_space.n == 2


def test_unknown_environment_id_suggests_close_matches():
    with pytest.raises(ConfigError, match="CartPole-v1"):
        make_env("CartPol-v1")


def test_legacy_atari_ids_get_the_same_pipeline():
    env = make_env("PongNoFrameskip-v4")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.unwrapped._frameskip == 1
