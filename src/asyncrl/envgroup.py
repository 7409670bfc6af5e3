"""A learner's K environments, stepped together: K Gymnasium environments, or ALE's vector environment.

The learner acts for the environments whose segment is still going and steps them once per agent
step. :class:`SeparateEnvs` is the paper's pipeline (:mod:`asyncrl.envs`), one Gymnasium
environment per actor, and steps only those. :class:`VectorAtari` runs the same Atari
preprocessing in ALE's C++ ``AtariVectorEnv`` (emulation, max-pooling, resizing, frame stacking and
no-op starts in one call for all K), whose ``step`` takes an action for every environment: an
environment whose segment already ended at a terminal plays NOOP until the update. Those steps are
not the agent's (no frames counted, nothing learned from them), but they are the game's: their raw
rewards go into the game's score, and the next segment starts wherever the game then is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from asyncrl.config import EnvConfig, TrainConfig
from asyncrl.envs import build_env, check_env_id, is_ale_id


@dataclass(slots=True)
class Step:
    """What one environment's agent step gave the learner (the reward clipped for training)."""

    obs: np.ndarray  # s_{t+1}: at a game's end the last observation, not the next game's first
    reward: float
    terminated: bool
    truncated: bool


@dataclass(slots=True)
class GameOver:
    """A whole game ended in environment ``env``: its raw score and length in agent steps."""

    env: int
    score: float
    length: int


class EnvGroup(Protocol):
    observation_space: gym.Space
    action_space: gym.Space
    spec: Any

    def reset(self, seed: int) -> list[np.ndarray]:
        """Start every environment, each with its own seed derived from ``seed``."""

    def step(self, actions: dict[int, Any]) -> tuple[dict[int, Step], list[GameOver]]:
        """One agent step for the environments in ``actions``; the games that ended meanwhile."""

    def next_start(self, k: int) -> np.ndarray:
        """Where environment k's next segment starts, after its segment ended at a terminal or a
        truncation (a new game, or the same game after a lost life)."""

    def close(self) -> None: ...


def uses_vector_env(config: EnvConfig) -> bool:
    """Whether training steps this environment's learners in ALE's vector environment.

    Only for Atari with the pipeline's own action repeat (``frameskip`` 1): the vector environment
    max-pools the last two frames of its repeat as the pipeline does, which the emulator's own
    frame skip does not, so ``--frameskip 4 --action-repeat 1`` keeps the Gymnasium pipeline.
    """
    return config.vector_env and config.frameskip == 1 and is_ale_id(config.env_id)


def build_env_group(config: TrainConfig) -> EnvGroup:
    """The learner's ``envs_per_worker`` training environments."""
    n = config.run.envs_per_worker
    if uses_vector_env(config.env):
        return VectorAtari(config.env, n)
    return SeparateEnvs([build_env(config.env, training=True) for _ in range(n)])


class SeparateEnvs:
    """One Gymnasium environment per actor, each stepped in turn (the paper's learner for K = 1)."""

    def __init__(self, envs: list[gym.Env]):
        self.envs = envs
        self.observation_space = envs[0].observation_space
        self.action_space = envs[0].action_space
        self.spec = envs[0].spec

    def reset(self, seed: int) -> list[np.ndarray]:
        return [env.reset(seed=seed + k)[0] for k, env in enumerate(self.envs)]

    def step(self, actions: dict[int, Any]) -> tuple[dict[int, Step], list[GameOver]]:
        steps, games = {}, []
        for k, action in actions.items():
            obs, reward, term, trunc, info = self.envs[k].step(action)
            steps[k] = Step(obs, float(reward), bool(term), bool(trunc))
            if (term or trunc) and "episode" in info:  # a whole game ended (not only a life)
                games.append(GameOver(k, float(info["episode"]["r"]), int(info["episode"]["l"])))
        return steps, games

    def next_start(self, k: int) -> np.ndarray:
        return self.envs[k].reset()[0]

    def close(self) -> None:
        for env in self.envs:
            env.close()


class VectorAtari:
    """K Atari games in one ``ale_py.vector_env.AtariVectorEnv`` (one thread), set up as the
    pipeline of :func:`asyncrl.envs.build_env` is for training.

    Checked against the pipeline frame for frame (``tests/test_envgroup.py``); three differences
    remain. At a game's start the frame stack is padded with zeros where Gymnasium's
    ``FrameStackObservation`` repeats the first frame; after a lost life the game simply goes on
    where the pipeline's :class:`~asyncrl.envs.EpisodicLife` first steps one NOOP; and its no-op
    starts take 0 to ``noop_max`` - 1 frames where ``AtariPreprocessing``'s take 1 to ``noop_max``
    (ale-py 0.12.1). The emulator reports a lost life as a terminal (``life_loss_info``); rewards
    come raw and are clipped here, so that the game's score stays raw. A game's end is told from a
    lost life by the lives counter: with ``SameStep`` autoreset the new game's full lives are
    reported at the step that ended the old one.
    """

    NOOP = 0  # the first action of every game's minimal action set

    def __init__(self, config: EnvConfig, n_envs: int):
        from ale_py.vector_env import AtariVectorEnv

        check_env_id(config.env_id)
        self.spec = gym.spec(config.env_id)
        game = self.spec.kwargs["game"]
        self.clip = config.clip_rewards
        self.n = n_envs
        self.vec = AtariVectorEnv(
            game,
            n_envs,
            num_threads=1,  # the learners already keep every core busy
            max_num_frames_per_episode=self.spec.kwargs.get("max_num_frames_per_episode", 108_000),
            repeat_action_probability=config.repeat_action_probability,
            full_action_space=False,
            autoreset_mode="SameStep",
            img_height=config.screen_size,
            img_width=config.screen_size,
            grayscale=True,
            stack_num=config.frame_stack,
            frameskip=config.action_repeat,
            maxpool=True,
            noop_max=config.noop_max,
            episodic_life=False,  # in ale-py 0.12.1 it restarts the game at a lost life
            life_loss_info=config.terminal_on_life_loss,
            reward_clipping=False,
            use_fire_reset=False,  # the pipeline presses nothing at a reset
        )
        self.observation_space = self.vec.single_observation_space
        self.action_space = self.vec.single_action_space
        self.scores = np.zeros(n_envs)
        self.lengths = np.zeros(n_envs, dtype=np.int64)
        self.lives = np.zeros(n_envs, dtype=np.int64)
        self.current: np.ndarray | None = None  # every environment's newest observation

    def reset(self, seed: int) -> list[np.ndarray]:
        # ALE takes 31-bit seeds; the vector environment derives each environment's from this one.
        obs, info = self.vec.reset(seed=seed % (2**31 - self.n))
        self.current, self.lives[:] = obs, info["lives"]
        self.scores[:], self.lengths[:] = 0.0, 0
        return list(obs)

    def step(self, actions: dict[int, Any]) -> tuple[dict[int, Step], list[GameOver]]:
        every = np.full(self.n, self.NOOP, dtype=np.int64)
        every[list(actions)] = list(actions.values())
        obs, rewards, terms, truncs, info = self.vec.step(every)
        lives = info["lives"]
        self.scores += rewards
        self.lengths += 1
        game_over = truncs | (terms & (lives >= self.lives))
        steps = {}
        for k in actions:
            reward = float(np.clip(rewards[k], -1.0, 1.0)) if self.clip else float(rewards[k])
            last = info["final_obs"][k] if game_over[k] else obs[k]
            steps[k] = Step(last, reward, bool(terms[k]), bool(truncs[k]))
        games = [GameOver(int(k), float(self.scores[k]), int(self.lengths[k]))
                 for k in np.flatnonzero(game_over)]
        self.scores[game_over], self.lengths[game_over] = 0.0, 0
        self.current, self.lives = obs, lives.astype(np.int64)
        return steps, games

    def next_start(self, k: int) -> np.ndarray:
        return self.current[k]

    def close(self) -> None:
        self.vec.close()
