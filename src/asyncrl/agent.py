"""``asyncrl.load(run_dir)``: a trained agent that acts, outside any training run.

The agent holds the run's latest checkpoint, its network and its algorithm's way of acting, so
``agent.act(obs)`` takes the same decision a learner would (A3C samples from pi, the Q methods act
epsilon-greedily), with the exploration evaluation uses. An LSTM agent carries its state from one
``act`` to the next: call ``agent.reset()`` when an episode starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from asyncrl.algos import make_algorithm
from asyncrl.config import TrainConfig, is_atari
from asyncrl.envs import build_env, describe_spaces
from asyncrl.nets import build_network
from asyncrl.run import RunDirectory, load_parameters, read_config

EVAL_SEED_OFFSET = 10_000  # keeps evaluation episodes apart from the training learners' seeds
ATARI_EVAL_EPSILON = 0.05  # the customary evaluation epsilon of value-based Atari agents (Nature DQN)
ATARI_MAX_EPISODE_FRAMES = 18_000  # 5 minutes of play at 60 Hz (Nature DQN's evaluation cap)


@dataclass(frozen=True)
class Episode:
    """One whole episode as evaluation reports it: raw score, agent steps, cut by the cap or not."""

    ret: float
    length: int
    truncated: bool


class Agent:
    """A trained policy: ``act(obs) -> action`` for one observation as the environment returns it."""

    def __init__(self, config: TrainConfig, state: dict[str, Any], *, seed: int | None = None,
                 deterministic: bool = False, epsilon: float | None = None, run_dir: Path | None = None,
                 checkpoint: Path | None = None, checkpoint_note: str | None = None):
        self.config = config
        self.run_dir = run_dir
        self.checkpoint = checkpoint  # the file it was loaded from
        self.checkpoint_note = checkpoint_note  # why that is the previous checkpoint, if it is
        self.checkpoint_frames = int(state["frames"])
        env = build_env(config.env, training=False)
        try:
            obs_shape, _, self.actions = describe_spaces(env)
        finally:
            env.close()
        self.seed = config.run.seed + EVAL_SEED_OFFSET if seed is None else seed
        self.algo = make_algorithm(config.algo)
        self.algo.setup_exploration(np.random.default_rng(self.seed))
        self.deterministic = deterministic
        if self.algo.head == "q":  # evaluation replaces the learner's training epsilon with its own
            if epsilon is None:
                epsilon = ATARI_EVAL_EPSILON if is_atari(config.env.env_id) else 0.0
            if not 0.0 <= epsilon <= 1.0:
                raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
            self.algo.epsilon = epsilon
            greedy = epsilon == 0 or deterministic
            self.policy = "greedy" if greedy else f"epsilon-greedy (epsilon={epsilon:g})"
        elif self.actions.continuous:  # the Gaussian's mean: exploration noise is for training
            self.deterministic = True
            self.policy = "gaussian mean"
        else:
            self.policy = "greedy" if deterministic else "sampled"
        self.net = build_network(obs_shape, self.actions, self.algo.head, config.net)
        if checkpoint is not None:  # says which setting of config.json the checkpoint does not fit
            load_parameters(self.net, state["model"], config, checkpoint)
        else:
            self.net.load_state_dict(state["model"])
        self.net.eval()

    def reset(self) -> None:
        """Start of an episode: an LSTM agent's state goes back to zeros."""
        self.net.reset_state()

    def act(self, obs) -> int | np.ndarray:
        """The action for one observation (an int, or an array for continuous actions)."""
        batch = torch.as_tensor(np.asarray(obs)).unsqueeze(0)
        return self.algo.act(self.net, batch, deterministic=self.deterministic)[0]

    def make_env(self, *, render_mode: str | None = None, max_episode_frames: int | None = None) -> gym.Env:
        """The environment the agent was trained on, as evaluation sees it (raw scores, no clipping;
        Atari episodes capped at ``max_episode_frames``, by default 18,000 emulator frames)."""
        if max_episode_frames is None and is_atari(self.config.env.env_id):
            max_episode_frames = ATARI_MAX_EPISODE_FRAMES
        return build_env(self.config.env, training=False, render_mode=render_mode,
                         max_episode_frames=max_episode_frames)

    def episodes(self, env: gym.Env, count: int,
                 on_step: Callable[[gym.Env], None] | None = None) -> Iterator[Episode]:
        """Play ``count`` whole episodes in ``env`` from the agent's seed, yielding each as it ends.

        ``on_step(env)`` is called before every action and once after each episode's last step
        (to record its frames). PyTorch's generator is seeded, so the same seed plays the same games.
        """
        torch.manual_seed(self.seed)
        obs, _ = env.reset(seed=self.seed)
        for _ in range(count):
            self.reset()  # an LSTM carries its state through the episode, from zeros
            while True:
                if on_step is not None:
                    on_step(env)
                obs, _, terminated, truncated, info = env.step(self.act(obs))
                if terminated or truncated:
                    if on_step is not None:
                        on_step(env)
                    yield Episode(float(info["episode"]["r"]), int(info["episode"]["l"]),
                                  bool(truncated and not terminated))
                    obs, _ = env.reset()
                    break


def load(run_dir: str | os.PathLike, *, seed: int | None = None, deterministic: bool = False,
         epsilon: float | None = None) -> Agent:
    """The agent in ``run_dir``'s latest checkpoint.

    A3C samples its actions from pi unless ``deterministic``; a Gaussian policy always plays its
    mean. The Q methods act greedily with probability 1 - ``epsilon`` (default 0.05 on Atari, as
    customary, and 0 elsewhere).
    """
    path = Path(run_dir)
    config = read_config(path)
    run = RunDirectory(path)
    state = run.load_checkpoint()
    return Agent(config, state, seed=seed, deterministic=deterministic, epsilon=epsilon, run_dir=path,
                 checkpoint=run.checkpoint_path, checkpoint_note=run.checkpoint_note)
