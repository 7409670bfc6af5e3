"""Seconds per agent step of a learner's K Atari environments: asyncrl's Gymnasium pipeline against
ALE's own vector environment (``ale_py.vector_env.AtariVectorEnv``, the pipeline in C++), one thread.

Both with the paper's training settings: 4 frames per action with the max over the last two,
grayscale 84 x 84, 4 frames stacked, up to 30 no-ops at reset, reward clipping, a lost life as a
terminal, no sticky actions and no FIRE at reset. Random actions; the median of 3 rounds after a
warm-up. Run it on an otherwise idle machine.

    python bench/vecenv.py --env ALE/Pong-v5 --envs 8
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from ale_py.vector_env import AtariVectorEnv

from asyncrl.config import EnvConfig
from asyncrl.envs import build_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--envs", type=int, default=8, help="environments per learner (K)")
    parser.add_argument("--steps", type=int, default=300, help="steps of every environment per round")
    args = parser.parse_args()
    k, steps = args.envs, args.steps
    rng = np.random.default_rng(0)
    envs = [build_env(EnvConfig(env_id=args.env), training=True, seed=i) for i in range(k)]
    n_actions = envs[0].action_space.n
    game = args.env.removeprefix("ALE/").split("-")[0]
    game = "".join(f"_{c.lower()}" if c.isupper() else c for c in game).lstrip("_")  # SpaceInvaders -> space_invaders
    vector = AtariVectorEnv(game, num_envs=k, num_threads=1, noop_max=30, episodic_life=True, reward_clipping=True,
                            use_fire_reset=False, repeat_action_probability=0.0, frameskip=4, maxpool=True,
                            stack_num=4)
    vector.reset(seed=0)

    def gymnasium_round() -> float:
        start = time.perf_counter()
        for _ in range(steps):
            for env in envs:
                _, _, terminated, truncated, _ = env.step(int(rng.integers(n_actions)))
                if terminated or truncated:
                    env.reset()
        return (time.perf_counter() - start) / (steps * k)

    def vector_round() -> float:
        start = time.perf_counter()
        for _ in range(steps):
            vector.step(rng.integers(n_actions, size=k))
        return (time.perf_counter() - start) / (steps * k)

    gymnasium_round(), vector_round()
    ours = statistics.median(gymnasium_round() for _ in range(3))
    theirs = statistics.median(vector_round() for _ in range(3))
    print(f"{args.env}, {k} environments, one thread: Gymnasium pipeline {ours * 1e3:.3f} ms per agent step, "
          f"AtariVectorEnv {theirs * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
