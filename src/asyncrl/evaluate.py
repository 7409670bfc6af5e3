"""Evaluate a run's latest checkpoint: play whole episodes and report the raw scores.

Atari follows the no-op-starts protocol of Nature DQN: each episode starts with up to
``noop_max`` (30) random no-ops, lasts at most 5 minutes of play (18,000 emulator frames, 4,500
agent steps at action repeat 4), reports the unclipped game score, and a lost life does not end
it; 30 episodes by default. The result then also holds the human-normalised score and the A3C
paper's published scores for the game (``asyncrl.scores``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from asyncrl import scores
from asyncrl.agent import ATARI_EVAL_EPSILON, ATARI_MAX_EPISODE_FRAMES, EVAL_SEED_OFFSET, load
from asyncrl.config import is_atari

__all__ = [
    "ATARI_EVAL_EPISODES",
    "ATARI_EVAL_EPSILON",
    "ATARI_MAX_EPISODE_FRAMES",
    "EVAL_SEED_OFFSET",
    "evaluate",
]

ATARI_EVAL_EPISODES = 30  # Nature DQN's protocol
EVAL_EPISODES = 10


def evaluate(run_dir: str | os.PathLike, episodes: int | None = None, *, seed: int | None = None,
             deterministic: bool = False, epsilon: float | None = None,
             max_episode_frames: int | None = None) -> dict[str, Any]:
    """Play ``episodes`` episodes with the run's latest checkpoint; return their statistics.

    ``episodes`` defaults to 30 on Atari (the protocol's) and 10 elsewhere. A3C samples its actions
    from pi unless ``deterministic`` (then it takes the most probable one); a Gaussian policy
    always plays its mean. Q methods act greedily with probability 1 - ``epsilon`` (default: 0.05
    on Atari, 0 otherwise). ``max_episode_frames`` caps Atari episodes (default 18,000 emulator
    frames); the score reached by then counts, and ``truncated_episodes`` says how many were cut.
    """
    agent = load(run_dir, seed=seed, deterministic=deterministic, epsilon=epsilon)
    config = agent.config
    atari = is_atari(config.env.env_id)
    if episodes is None:
        episodes = ATARI_EVAL_EPISODES if atari else EVAL_EPISODES
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    if max_episode_frames is not None and max_episode_frames < 1:
        raise ValueError(f"max_episode_frames must be at least 1, got {max_episode_frames}")
    torch.set_num_threads(1)
    env = agent.make_env(max_episode_frames=max_episode_frames)
    try:
        played = list(agent.episodes(env, episodes))
    finally:
        env.close()
    returns = [e.ret for e in played]
    lengths = [e.length for e in played]
    mean = float(np.mean(returns))
    result: dict[str, Any] = {
        "env": config.env.env_id,
        "algo": config.algo.algo,
        "net": config.net.core,
        "run_dir": str(agent.run_dir),
        "checkpoint_frames": agent.checkpoint_frames,
        "checkpoint": agent.checkpoint.name if agent.checkpoint is not None else None,
        "checkpoint_note": agent.checkpoint_note,
        "episodes": episodes,
        "policy": agent.policy,
        "noop_max": config.env.noop_max if atari else None,
        "max_episode_frames": (max_episode_frames or ATARI_MAX_EPISODE_FRAMES) if atari else None,
        "truncated_episodes": sum(e.truncated for e in played),
        "seed": agent.seed,
        "mean_return": mean,
        "std_return": float(np.std(returns)),
        "min_return": float(np.min(returns)),
        "max_return": float(np.max(returns)),
        "returns": returns,
        "lengths": lengths,
        "human_normalized": None,  # Atari-57 games only
    }
    reference = scores.lookup(config.env.env_id) if atari else None
    if reference is not None:
        result["human_normalized"] = reference.normalize(mean)
        result["reference"] = {
            "game": reference.game,
            "random": reference.random,
            "human": reference.human,
            "paper": dict(reference.paper),
            "paper_protocol": "human starts",
        }
    return result
