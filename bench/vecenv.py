"""Seconds per agent step of a learner's K Atari environments: asyncrl's Gymnasium pipeline against
ALE's own vector environment (``ale_py.vector_env.AtariVectorEnv``, the pipeline in C++), one thread.

Both with the paper's training settings: 4 frames per action with the max over the last two,
grayscale 84 x 84, 4 frames stacked, up to 30 no-ops at reset, reward clipping, a lost life as a
terminal, no sticky actions and no FIRE at reset. Random actions; the median of 3 rounds after a
warm-up. Run it on an otherwise idle machine.

    python bench/vecenv.py --env ALE/Pong-v5 --envs 8

With ``--check`` it times nothing: it steps one game of the Gymnasium pipeline and a one-environment
``AtariVectorEnv`` side by side (no no-ops, so both emulators start alike; the same random actions;
the vector environment reset at a lost life by its own next-step autoreset, the pipeline by
``EpisodicLife``), once with the vector environment's ``episodic_life`` and once with
``life_loss_info`` (the game goes on, the lost life only reported as a terminal), and prints each
step where a stacked frame, the reward or the terminal differ, until the lives do.

    python bench/vecenv.py --env ALE/Breakout-v5 --check
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from ale_py.vector_env import AtariVectorEnv

from asyncrl.config import EnvConfig
from asyncrl.envs import build_env


def ale_game(env_id: str) -> str:
    """ALE's ROM name for a Gymnasium id: ALE/SpaceInvaders-v5 -> space_invaders."""
    game = env_id.removeprefix("ALE/").split("-")[0]
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in game).lstrip("_")


def vector_env(env_id: str, num_envs: int, noop_max: int, life_loss: str = "life_loss_info") -> AtariVectorEnv:
    """ALE's vector environment with the pipeline's settings, one thread; ``life_loss`` names the flag
    that reports a lost life (``life_loss_info`` plays on as the pipeline does, ``episodic_life``
    restarts the game)."""
    return AtariVectorEnv(ale_game(env_id), num_envs=num_envs, num_threads=1, noop_max=noop_max,
                          reward_clipping=True, use_fire_reset=False, repeat_action_probability=0.0, frameskip=4,
                          maxpool=True, stack_num=4, **{life_loss: True})


def frame_differences(ours: np.ndarray, theirs: np.ndarray) -> list[int]:
    """The largest pixel difference in each stacked frame, oldest first."""
    return np.abs(ours.astype(int) - theirs.astype(int)).reshape(len(ours), -1).max(axis=1).tolist()


def check(env_id: str, life_loss: str, seed: int = 0, max_steps: int = 5000) -> None:
    """Step one game of both side by side and print where they differ (see the module's docstring)."""
    env = build_env(EnvConfig(env_id=env_id, noop_max=0), training=True, seed=seed)
    vector = vector_env(env_id, num_envs=1, noop_max=0, life_loss=life_loss)
    ours, _ = env.reset(seed=seed)
    theirs, _ = vector.reset(seed=seed)
    ale = env.unwrapped.ale
    rng = np.random.default_rng(seed)
    print(f"{env_id}: the Gymnasium pipeline against AtariVectorEnv({life_loss}=True)")
    differing = 0
    for t in range(max_steps):
        action = int(rng.integers(env.action_space.n))
        ours, reward, terminated, truncated, _ = env.step(action)
        theirs, v_reward, v_terminated, v_truncated, v_info = vector.step(np.array([action]))
        frames = frame_differences(ours, theirs[0])
        lives, v_lives = ale.lives(), int(v_info["lives"][0])
        same = (not any(frames) and reward == v_reward[0] and terminated == v_terminated[0]
                and truncated == v_truncated[0])
        if lives != v_lives:
            print(f"  step {t}: lives {lives} / {v_lives}: from here the two play different games; stopped")
            return
        if not same:
            differing += 1
            print(f"  step {t}: largest pixel difference per stacked frame (oldest first) {frames}, reward {reward:g} / "
                  f"{v_reward[0]:g}, terminal {terminated} / {bool(v_terminated[0])}, lives {lives} / {v_lives}")
        if terminated or truncated:
            if env.get_wrapper_attr("game_over"):
                break
            ours, _ = env.reset()  # EpisodicLife: one no-op, the game goes on
            theirs, _, _, _, v_info = vector.step(np.array([0]))  # its next-step autoreset
            frames = frame_differences(ours, theirs[0])
            print(f"  step {t}, the reset after a lost life: pixel differences {frames}, lives {ale.lives()} / "
                  f"{int(v_info['lives'][0])}")
            if ale.lives() != int(v_info["lives"][0]):
                print("  from here the two play different games; stopped")
                return
    print(f"  {t + 1} steps to the game's end, {differing} of them differing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--envs", type=int, default=8, help="environments per learner (K)")
    parser.add_argument("--steps", type=int, default=300, help="steps of every environment per round")
    parser.add_argument("--check", action="store_true", help="compare the frames step by step instead of timing")
    args = parser.parse_args()
    if args.check:
        for life_loss in ("episodic_life", "life_loss_info"):
            check(args.env, life_loss)
        return
    k, steps = args.envs, args.steps
    rng = np.random.default_rng(0)
    envs = [build_env(EnvConfig(env_id=args.env), training=True, seed=i) for i in range(k)]
    n_actions = envs[0].action_space.n
    # life_loss_info, not episodic_life: the latter restarts the whole game at every lost life (--check).
    vector = vector_env(args.env, num_envs=k, noop_max=30)
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
