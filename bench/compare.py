"""asyncrl A3C against Stable-Baselines3 A2C on ALE/Pong-v5: training frames/s, side by side.

Both train for the same wall-clock time, one after the other, alternating for ``--rounds``
rounds so that a host whose speed drifts affects both alike; each training run is its own
process. The figure for each is emulator frames per second of training once it has started
(environment creation and start-up excluded for both), and the ratio is of the medians. An asyncrl
run whose learners had not all started when its time ran out has no figure (null in the JSON): the
medians are of the runs that have one, and if no asyncrl run has one, compare.py says so and exits
with status 3, the JSON written all the same.

(i)  asyncrl: `asyncrl train --preset atari-a3c-ff --env ALE/Pong-v5` with the fastest settings
     measured on this machine (``--workers``, ``--envs-per-worker``), its `steady_frames_per_second`;
     with ``--default``, the command a user runs first, `asyncrl train --env ALE/Pong-v5` with
     nothing else (its learners, environments per learner and network as the defaults choose).
(ii) Stable-Baselines3 A2C with its standard Atari setup, as RL Baselines3 Zoo trains it:
     `make_atari_env` (AtariWrapper: no-op starts, frame skip 4 with max-pooling, 84x84 grey,
     life-loss terminal, reward clipping) on the same game without sticky actions, 16 environments
     in a DummyVecEnv, 4 frames stacked, CnnPolicy, n_steps 5, ent_coef 0.01, vf_coef 0.25,
     RMSpropTFLike(eps=1e-5), PyTorch's default threads. Its frames are timesteps x 4.

Needs the benchmark extra: pip install -e '.[bench]'  (stable-baselines3; never needed to train).

    python bench/compare.py --seconds 120 --rounds 3
    python bench/compare.py --seconds 60 --rounds 3 --default
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, silent_sb3_logger
from throughput import measure

SB3_ENV = "PongNoFrameskip-v4"  # ALE/Pong-v5 without its frameskip and sticky actions: what AtariWrapper expects
SB3_FRAME_SKIP = 4
EXIT_NOT_MEASURED = 3  # every asyncrl run ended before its steady speed could be measured


def run_sb3(seconds: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--sb3-child", str(seconds)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def sb3_child(seconds: float) -> None:
    """Train SB3 A2C for ``seconds`` after its first step; print frames/s as JSON (in its own process)."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env(SB3_ENV, n_envs=16, seed=0), n_stack=4)
    model = A2C("CnnPolicy", env, n_steps=5, ent_coef=0.01, vf_coef=0.25, seed=0, verbose=0,
                policy_kwargs={"optimizer_class": RMSpropTFLike, "optimizer_kwargs": {"eps": 1e-5}})
    model.set_logger(silent_sb3_logger())

    class Clock(BaseCallback):
        """Starts the clock at the first step (start-up excluded) and stops training at the limit."""

        def _on_training_start(self) -> None:
            self.start, self.start_steps = None, 0

        def _on_step(self) -> bool:
            if self.start is None:
                self.start, self.start_steps = time.perf_counter(), self.num_timesteps
            self.elapsed = time.perf_counter() - self.start
            return self.elapsed < seconds

    clock = Clock()
    model.learn(total_timesteps=10**9, callback=clock)
    steps = model.num_timesteps - clock.start_steps
    print(json.dumps({"fps": steps * SB3_FRAME_SKIP / clock.elapsed, "frames": model.num_timesteps * SB3_FRAME_SKIP}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120.0, help="training time of each run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (one run of each per round)")
    parser.add_argument("--workers", type=int, default=None, help="asyncrl learners (2 without --default)")
    parser.add_argument("--envs-per-worker", type=int, default=None,
                        help="asyncrl environments per learner (16 without --default)")
    parser.add_argument("--default", action="store_true",
                        help="asyncrl runs `asyncrl train --env ALE/Pong-v5` as it is, without the preset, "
                             "--workers or --envs-per-worker")
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements here")
    parser.add_argument("--sb3-child", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sb3_child is not None:
        sb3_child(args.sb3_child)
        return
    if args.default and (args.workers is not None or args.envs_per_worker is not None):
        parser.exit(2, "compare.py: --default runs the command as it is; it takes no --workers or --envs-per-worker\n")
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        parser.exit(2, "compare.py: Stable-Baselines3 is not installed: pip install -e '.[bench]'\n")

    if args.default:
        entry, workers, label = "a3c", None, "the default command"
    else:
        workers, envs = args.workers or 2, args.envs_per_worker or 16
        entry = f"a3c --preset atari-a3c-ff --envs-per-worker {envs}"
        label = f"{workers} learners x {envs} envs"
    ours, theirs = [], []
    for r in range(args.rounds):
        ours.append(measure("ALE/Pong-v5", entry, workers, args.seconds, []))
        print(round_line(r + 1, args.rounds, "asyncrl A3C", ours[-1]["steady_fps"], args.seconds), flush=True)
        theirs.append(run_sb3(args.seconds))
        print(round_line(r + 1, args.rounds, "SB3 A2C", theirs[-1]["fps"], args.seconds), flush=True)
    a, b = median_of_measured(x["steady_fps"] for x in ours), median_of_measured(x["fps"] for x in theirs)
    ratio = a / b if a is not None and b else None
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "seconds": args.seconds,
                                         "asyncrl_command": f"asyncrl train --algo {entry} --env ALE/Pong-v5"
                                         + ("" if workers is None else f" --workers {workers}"), "asyncrl": ours,
                                         "sb3_a2c": theirs, "ratio": ratio}, indent=2))
    if a is None:
        print(f"compare.py: no asyncrl run was long enough to measure its steady speed (not every learner "
              f"started within {args.seconds:g} s): give it more --seconds", file=sys.stderr)
        sys.exit(EXIT_NOT_MEASURED)
    print(f"\nALE/Pong-v5, {args.seconds:g} s per run; {machine()}")
    print(f"asyncrl A3C ({label}): {a:,.0f} frames/s{_median_of(ours, 'steady_fps')}")
    print(f"Stable-Baselines3 A2C (16 envs, DummyVecEnv):   {b:,.0f} frames/s{_median_of(theirs, 'fps')}")
    print(f"ratio: {ratio:.2f}x")


def round_line(index: int, rounds: int, name: str, fps: float | None, seconds: float) -> str:
    """One run's figure; a run whose learners had not all started when its time ran out has none."""
    if fps is None:
        return (f"round {index}/{rounds}  {name:<12}  too short to measure steady speed: not every learner "
                f"started within {seconds:g} s")
    return f"round {index}/{rounds}  {name:<12}  {fps:8,.0f} frames/s"


def median_of_measured(values: Iterable[float | None]) -> float | None:
    """The median of the runs that measured a speed; None if none did."""
    measured = [v for v in values if v is not None]
    return statistics.median(measured) if measured else None


def _median_of(runs: list[dict], key: str) -> str:
    measured = sum(r[key] is not None for r in runs)
    if measured == len(runs):
        return f" (median of {measured} runs)"
    return f" (median of {measured} of {len(runs)} runs; {len(runs) - measured} too short to measure)"


if __name__ == "__main__":
    main()
