"""How a planar runner moves: under trained policies, or under a random Gaussian policy.

A HalfCheetah that runs on its back and one that runs upright can score alike early on and very
differently later; a Hopper standing still scores about 1,000. This reads, for HalfCheetah, Hopper
and Walker2d (the runners whose root joints are rootx, rootz, rooty), the mean forward velocity and
the fraction of steps the torso is upright (cos(pitch) > 0):

- of a run's final policy, asyncrl's (a run directory: its mean action, the evaluation's seed and
  games, as `asyncrl evaluate`) or the SB3 baseline's of `bench/mujoco.py` (a directory with
  model.zip and vecnormalize.pkl, its mujoco.json one level up naming the task);
- of a policy that draws each action from N(0, sigma^2), clipped to the action bounds: what the
  untrained Gaussian policy does with its initial log-std (log_std_init 0 is sigma 1).

    python bench/gait.py runs/m81-cheetah-noclip-s3/asyncrl-seed3 runs/m98-cheetah-default-sb3-s1/sb3-a2c-seed1
    python bench/gait.py --env HalfCheetah-v5 --random-sigma 1 0.61 0.37 0.14 --episodes 10
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# bench/ holds a script named like the MuJoCo package (see bench/mujoco.py): take what this script
# shares from the folder, then leave it, so that Gymnasium's `import mujoco` finds the package.
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
from common import Gait, replay_gait, sb3_episodes

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def sb3_gait(run_dir: Path, episodes: int, seed: int) -> tuple[dict, list[float]]:
    """As bench/mujoco.py evaluates its SB3 baseline: mean action, observation statistics frozen."""
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    env_id = json.loads((run_dir.parent / "mujoco.json").read_text())["env"]
    model = A2C.load(run_dir / "model.zip")
    env = VecNormalize.load(str(run_dir / "vecnormalize.pkl"), make_vec_env(env_id, n_envs=1, seed=seed + 10_000))
    env.training, env.norm_reward = False, False
    returns, _, gait = sb3_episodes(model, env, episodes)
    env.close()
    if gait is None:
        raise SystemExit(f"gait.py: {env_id} is not a planar runner (HalfCheetah, Hopper, Walker2d)")
    return gait, returns


def random_gait(env_id: str, sigma: float, episodes: int) -> tuple[dict, list[float], int]:
    """Also the episodes that end on the runner's back (HalfCheetah's never terminate: it stays there)."""
    import gymnasium as gym
    import numpy as np

    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    low, high = env.action_space.low, env.action_space.high
    gait, returns, on_back = Gait(), [], 0
    for episode in range(episodes):
        env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            gait(env)
            _, reward, terminated, truncated, _ = env.step(np.clip(rng.normal(0.0, sigma, low.shape), low, high))
            total += float(reward)
            done = terminated or truncated
        on_back += bool(np.cos(env.unwrapped.data.qpos[2]) <= 0)
        returns.append(total)
    env.close()
    return gait.summary(), returns, on_back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="*", type=Path, help="asyncrl run directories or bench/mujoco.py's SB3 ones")
    parser.add_argument("--env", default="HalfCheetah-v5", help="the task of --random-sigma (default: HalfCheetah-v5)")
    parser.add_argument("--random-sigma", type=float, nargs="+", default=[],
                        help="the std of random Gaussian policies to watch instead of runs")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per policy (default: 10)")
    parser.add_argument("--seed", type=int, default=None,
                        help="an SB3 run's seed (default: from its directory's name, as bench/mujoco.py names it)")
    args = parser.parse_args()
    if not args.run_dirs and not args.random_sigma:
        parser.exit(2, "gait.py: give run directories or --random-sigma\n")
    if args.episodes < 1 or any(s <= 0 for s in args.random_sigma):
        parser.exit(2, "gait.py: --episodes must be at least 1 and each --random-sigma positive\n")
    print("| policy | episodes | mean return | forward velocity | upright | episodes ending on its back |")
    print("|---|---|---|---|---|---|")
    for run_dir in args.run_dirs:
        if (run_dir / "model.zip").exists():
            named = run_dir.name.rsplit("seed", 1)[-1]
            if args.seed is None and not named.isdigit():
                parser.exit(2, f"gait.py: {run_dir}: give the SB3 run's --seed (its name does not end in seedN)\n")
            seed = args.seed if args.seed is not None else int(named)
            gait, returns = sb3_gait(run_dir, args.episodes, seed)
        elif (run_dir / "checkpoint.pt").exists():
            gait, returns = replay_gait(run_dir, args.episodes)
            if gait is None:
                parser.exit(2, f"gait.py: {run_dir} is not of a planar runner (HalfCheetah, Hopper, Walker2d)\n")
        else:
            parser.exit(2, f"gait.py: {run_dir} holds neither an asyncrl checkpoint nor an SB3 model.zip\n")
        print(f"| {run_dir} | {len(returns)} | {sum(returns) / len(returns):,.1f} | {gait['forward_velocity']:.2f} | "
              f"{gait['upright']:.0%} | – |", flush=True)
    for sigma in args.random_sigma:
        gait, returns, on_back = random_gait(args.env, sigma, args.episodes)
        print(f"| N(0, {sigma:g}²) on {args.env} | {len(returns)} | {sum(returns) / len(returns):,.1f} | "
              f"{gait['forward_velocity']:.2f} | {gait['upright']:.0%} | {on_back} |", flush=True)


if __name__ == "__main__":
    main()
