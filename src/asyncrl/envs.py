"""Environments: the paper's Atari pipeline built from Gymnasium's own wrappers, or any Gymnasium id.

Atari (Mnih et al. 2015, as used by the A3C paper): emulator frameskip 1 and no sticky actions,
the action repeated 4 frames with a pixel-wise max over the last two, grayscale 84x84, 4 frames
stacked as uint8 (4, 84, 84), up to 30 random no-ops at reset. Training adds reward clipping and,
unless switched off, a lost life as a learning terminal. ``info["episode"]`` always holds the raw game score.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import (
    AtariPreprocessing,
    ClipAction,
    ClipReward,
    FrameStackObservation,
    RecordEpisodeStatistics,
)

from asyncrl.config import ConfigError, EnvConfig, TrainConfig

_ale_registered = False


def _register_ale() -> None:
    global _ale_registered
    if not _ale_registered:
        import ale_py

        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # no banner from every learner
        gym.register_envs(ale_py)
        _ale_registered = True


def is_ale_id(env_id: str) -> bool:
    """Whether Gymnasium makes this id with ale-py's AtariEnv."""
    if env_id.startswith("ALE/"):
        return True
    if env_id not in gym.registry:
        _register_ale()  # legacy Atari ids are registered only once ale_py is imported
    spec = gym.registry.get(env_id)
    return spec is not None and str(spec.entry_point).startswith("ale_py")


def check_env_id(env_id: str) -> None:
    """Raise ConfigError for an id Gymnasium does not know, suggesting close matches.

    ``module:EnvId-v0`` (Gymnasium's own syntax) imports ``module`` first, so environments that
    register themselves on import can be trained without changing asyncrl.
    """
    if ":" in env_id:
        module, _, env_id = env_id.partition(":")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"cannot import {module!r} for environment {env_id!r}: {exc}") from None
    if is_ale_id(env_id):
        _register_ale()
    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(f"unknown environment id {env_id!r}{hint}")


class EpisodicLife(gym.Wrapper):
    """A lost life ends the learning episode, but the game goes on (Nature DQN's life-loss terminal).

    Reset after a life-loss terminal steps a no-op instead of restarting the game, so episode
    statistics recorded below this wrapper still see whole games and raw scores.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.lives = 0
        self.game_over = True

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = self.env.unwrapped.ale.lives()
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs):
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.lives = self.env.unwrapped.ale.lives()
        return obs, info


def make_env(env_id: str, *, seed: int | None = None, training: bool = False, **overrides: Any) -> gym.Env:
    """Return a Gymnasium env: the paper's pipeline for ALE ids, the registered env otherwise.

    ``overrides`` are :class:`~asyncrl.config.EnvConfig` fields (``noop_max``,
    ``repeat_action_probability``, ``terminal_on_life_loss``, ...). ``seed`` seeds the first reset
    and the action space.
    """
    return build_env(env_config(env_id, **overrides), seed=seed, training=training)


def build_env(config: EnvConfig, *, seed: int | None = None, training: bool = False,
              render_mode: str | None = None, max_episode_frames: int | None = None) -> gym.Env:
    """:func:`make_env` from an :class:`~asyncrl.config.EnvConfig`.

    ``render_mode`` is Gymnasium's (``"rgb_array"`` for videos: the full-colour screen on Atari).
    ``max_episode_frames`` caps an Atari episode at that many emulator frames (evaluation's
    5 minutes of play is 18,000); other environments keep their own time limit.
    """
    check_env_id(config.env_id)
    if is_ale_id(config.env_id):
        env = _make_atari(config, training, render_mode, max_episode_frames)
    else:
        env = _make_other(config, render_mode)
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


def env_config(env_id: str, **overrides: Any) -> EnvConfig:
    known = {f.name for f in dataclasses.fields(EnvConfig)} - {"env_id"}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"make_env() got unknown options {sorted(unknown)}; valid: {sorted(known)}")
    return EnvConfig(env_id=env_id, **overrides)


def _make_atari(c: EnvConfig, training: bool, render_mode: str | None = None,
                max_episode_frames: int | None = None) -> gym.Env:
    extra: dict[str, Any] = {"render_mode": render_mode}
    if max_episode_frames is not None:
        extra["max_num_frames_per_episode"] = max_episode_frames
    env = gym.make(
        c.env_id,
        **extra,
        frameskip=c.frameskip,
        repeat_action_probability=c.repeat_action_probability,
        full_action_space=False,
        obs_type="grayscale",  # the emulator's own frame copy each step is then a third the size
    )
    # Gymnasium's wrapper does the action repeat with the max over the last two frames, grayscale,
    # resize and no-op starts; it requires emulator frameskip 1 whenever it repeats actions itself.
    env = AtariPreprocessing(
        env,
        noop_max=c.noop_max,
        frame_skip=c.action_repeat,
        screen_size=c.screen_size,
        terminal_on_life_loss=False,
        grayscale_obs=True,
    )
    # Below the training wrappers, so that episode statistics are whole games with raw scores.
    env = RecordEpisodeStatistics(env)
    if training and c.terminal_on_life_loss:
        env = EpisodicLife(env)
    if training and c.clip_rewards:
        env = ClipReward(env, -1.0, 1.0)
    return FrameStackObservation(env, c.frame_stack)


def _make_other(c: EnvConfig, render_mode: str | None = None) -> gym.Env:
    try:
        made = gym.make(c.env_id, render_mode=render_mode)
    except RuntimeError as exc:
        # mujoco reads MUJOCO_GL as it is imported and refuses a value it does not know, rendering or not.
        if "MUJOCO_GL" not in str(exc):
            raise
        raise ConfigError(f"{c.env_id}: MUJOCO_GL={os.environ.get('MUJOCO_GL')} is not a rendering backend "
                          "MuJoCo knows: unset it, or set egl, osmesa or glfw") from None
    env = RecordEpisodeStatistics(made)
    if isinstance(env.action_space, gym.spaces.Box):
        # The policy's sample goes to the environment clipped to the bounds; the learner keeps
        # the unclipped sample for its log-probability.
        env = ClipAction(env)
    return env


@dataclass(frozen=True)
class ActionSpec:
    """What the policy outputs: one of ``size`` discrete actions, or a real vector of ``size``."""

    continuous: bool
    size: int


def describe_spaces(env: gym.Env) -> tuple[tuple[int, ...], np.dtype, ActionSpec]:
    """Observation shape and dtype, and the actions, or a ConfigError naming what is unsupported."""
    name = env.spec.id if env.spec else str(env)
    obs_space, act_space = env.observation_space, env.action_space
    if isinstance(act_space, gym.spaces.Discrete):
        actions = ActionSpec(continuous=False, size=int(act_space.n))
    elif isinstance(act_space, gym.spaces.Box) and len(act_space.shape) == 1:
        actions = ActionSpec(continuous=True, size=int(act_space.shape[0]))
    else:
        raise ConfigError(
            f"{name}: action space {act_space} is not supported (Discrete, or a one-dimensional Box)"
        )
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) not in (1, 3):
        raise ConfigError(
            f"{name}: observation space {obs_space} is not supported "
            "(vector observations or stacked frames only)"
        )
    return tuple(obs_space.shape), obs_space.dtype, actions


def check_environment(config: TrainConfig) -> tuple[tuple[int, ...], ActionSpec]:
    """Make the environment once, before any process starts, so a bad id or space fails early.

    Gymnasium alone, no PyTorch: ``--print-config`` and a bad command line answer at once."""
    env = build_env(config.env, training=True)
    try:
        obs_shape, _, actions = describe_spaces(env)
    finally:
        env.close()
    return obs_shape, actions
