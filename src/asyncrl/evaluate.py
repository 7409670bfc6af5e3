"""Evaluate a run's latest checkpoint: play whole episodes and report the raw scores.

Atari episodes start with up to ``noop_max`` random no-ops (the no-op-starts protocol) and report
the unclipped game score; a lost life does not end an evaluation episode.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from asyncrl.algos import make_algorithm
from asyncrl.config import is_atari
from asyncrl.envs import build_env, describe_spaces
from asyncrl.nets import build_network
from asyncrl.run import RunDirectory, read_config

EVAL_SEED_OFFSET = 10_000  # keeps evaluation episodes apart from the training learners' seeds
ATARI_EVAL_EPSILON = 0.05  # the customary evaluation epsilon of value-based Atari agents (Nature DQN)


def evaluate(run_dir: str | os.PathLike, episodes: int = 10, *, seed: int | None = None,
             deterministic: bool = False, epsilon: float | None = None) -> dict[str, Any]:
    """Play ``episodes`` episodes with the run's latest checkpoint; return their statistics.

    A3C samples its actions from pi unless ``deterministic`` (then it takes the most probable one);
    a Gaussian policy always plays its mean.
    Q methods act greedily with probability 1 - ``epsilon`` (default: 0.05 on Atari, 0 otherwise).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    path = Path(run_dir)
    config = read_config(path)
    state = RunDirectory(path).load_checkpoint()
    torch.set_num_threads(1)
    env = build_env(config.env, training=False)
    obs_shape, _, actions = describe_spaces(env)
    seed = config.run.seed + EVAL_SEED_OFFSET if seed is None else seed
    torch.manual_seed(seed)
    algo = make_algorithm(config.algo)
    algo.setup_exploration(np.random.default_rng(seed))
    if algo.head == "q":  # evaluation replaces the learner's training epsilon with its own
        if epsilon is None:
            epsilon = ATARI_EVAL_EPSILON if is_atari(config.env.env_id) else 0.0
        algo.epsilon = epsilon
        policy = "greedy" if epsilon == 0 or deterministic else f"epsilon-greedy (epsilon={epsilon:g})"
    elif actions.continuous:  # the Gaussian's mean: exploration noise is for training
        deterministic = True
        policy = "gaussian mean"
    else:
        policy = "greedy" if deterministic else "sampled"
    net = build_network(obs_shape, actions, algo.head, config.net)
    net.load_state_dict(state["model"])
    net.eval()

    returns, lengths = [], []
    obs, _ = env.reset(seed=seed)
    for _ in range(episodes):
        net.reset_state()  # an LSTM carries its state through the episode, from zeros
        while True:
            action = algo.act(net, torch.as_tensor(obs).unsqueeze(0), deterministic=deterministic)
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                returns.append(float(info["episode"]["r"]))
                lengths.append(int(info["episode"]["l"]))
                obs, _ = env.reset()
                break
    env.close()
    return {
        "env": config.env.env_id,
        "algo": config.algo.algo,
        "run_dir": str(path),
        "checkpoint_frames": int(state["frames"]),
        "episodes": episodes,
        "policy": policy,
        "noop_max": config.env.noop_max if is_atari(config.env.env_id) else None,
        "seed": seed,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "min_return": float(np.min(returns)),
        "max_return": float(np.max(returns)),
        "returns": returns,
        "lengths": lengths,
    }
