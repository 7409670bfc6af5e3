"""Continuous control: train a task for a budget of steps over several seeds, evaluate each final policy.

For each of ``--seeds``: `asyncrl train --env TASK` (the defaults, or any train flags given after
``--``) for ``--steps`` environment steps (default 1M, the usual MuJoCo budget) or ``--minutes``,
whichever comes first; then the final network plays ``--eval-episodes`` episodes with its mean
action (`asyncrl evaluate`, 10 by default) and its learning curve is drawn. Everything goes to one
JSON (``mujoco.json``) in ``--out-dir``: the command, the machine and, per seed, the steps, seconds
and steps/s, the final 10- and 100-episode training means and the evaluation's mean and std, its episodes'
mean length and, for a planar runner (HalfCheetah, Hopper, Walker2d), how it moves in them: its
mean forward velocity and the fraction of steps its torso is upright (a HalfCheetah running on its
back and a Hopper standing still both score about 1,000).

With ``--baseline sb3-a2c`` each seed also trains Stable-Baselines3's A2C with RL Baselines3 Zoo's
settings for the task (hyperparams/a2c.yml: for the MuJoCo tasks SB3's defaults with VecNormalize,
i.e. one environment, n_steps 5, lr 7e-4, RMSprop, tanh MLPs of 64-64, a state-independent log-std;
Pendulum-v1 its own entry), in its own process, for the same wall-clock asyncrl's run trained
(``--baseline-budget wall-clock``, the default) or for the same steps (``steps``). Its final
policy is evaluated alike: its mean action, the observation statistics frozen, raw rewards. Needs
the benchmark extra: pip install -e '.[bench]'.

    python bench/mujoco.py --env HalfCheetah-v5 --seeds 0 1 2 --baseline sb3-a2c
    python bench/mujoco.py --env Hopper-v5 --steps 1M --seeds 0 -- --lr 3e-4 --reward-norm
    python bench/mujoco.py --env InvertedPendulum-v5 --steps 200k --seeds 0 1

Time is counted as `asyncrl train` counts it (from the start of its training loop); the JSON also
has each process's whole wall-clock, start-up and evaluation included.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

# This script has the MuJoCo package's name: while its folder is on the import path, Gymnasium's
# `import mujoco` finds this file instead. Take what it shares from the folder, then leave it.
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
from common import (
    episode_returns,
    fmt,
    machine,
    mean_or_none,
    plot_runs,
    replay_gait,
    sb3_episodes,
    silent_sb3_logger,
)

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from asyncrl.config import parse_count

WINDOW = 10  # episodes in the final training mean
BASELINES = {"sb3-a2c": "SB3 A2C"}
# RL Baselines3 Zoo's hyperparams/a2c.yml: its MuJoCo entry (HalfCheetah, Hopper, Walker2d, Ant,
# Humanoid, Swimmer: SB3's defaults with normalize: true) serves every task it has no entry for.
ZOO_A2C_MUJOCO: dict = {"n_envs": 1, "normalize": {}, "kwargs": {}}
ZOO_A2C = {
    "Pendulum-v1": {"n_envs": 8, "normalize": {"gamma": 0.9}, "kwargs": {
        "ent_coef": 0.0, "max_grad_norm": 0.5, "n_steps": 8, "gae_lambda": 0.9, "vf_coef": 0.4, "gamma": 0.9,
        "use_rms_prop": True, "normalize_advantage": False, "learning_rate": ("linear", 7e-4), "use_sde": True,
        "policy_kwargs": {"log_std_init": -2, "ortho_init": False}}},
}


def asyncrl_gait(run_dir: Path, episodes: int, returns: list[float]) -> dict | None:
    """The evaluation's gait (None for a task that is not a planar runner), checked to be of the
    same games as `asyncrl evaluate` played."""
    gait, replayed = replay_gait(run_dir, episodes)
    if [round(r, 3) for r in replayed] != [round(r, 3) for r in returns]:
        raise RuntimeError(f"{run_dir}: the replayed episodes differ from asyncrl evaluate's")
    return gait


def zoo_settings(env_id: str) -> dict:
    return ZOO_A2C.get(env_id, ZOO_A2C_MUJOCO)


def run_asyncrl(args, seed: int, run_dir: Path) -> dict:
    cmd = [sys.executable, "-m", "asyncrl", "train", "--env", args.env, "--seed", str(seed),
           "--frames", str(args.steps), "--max-seconds", f"{args.minutes * 60:g}", "--run-dir", str(run_dir),
           "--log-interval", "60", *args.train_flags]
    print("$ asyncrl " + " ".join(cmd[3:]), flush=True)
    started = time.monotonic()
    subprocess.run(cmd, check=True)
    process_seconds = time.monotonic() - started
    summary = json.loads((run_dir / "summary.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    evaluation = json.loads(subprocess.run(
        [sys.executable, "-m", "asyncrl", "evaluate", str(run_dir), "--json", "--episodes", str(args.eval_episodes)],
        check=True, capture_output=True, text=True).stdout)
    returns = episode_returns(run_dir / "metrics.csv")
    png = run_dir / "curve.png"
    if returns:
        subprocess.run([sys.executable, "-m", "asyncrl", "plot", str(run_dir), "-o", str(png), "--smooth",
                        str(WINDOW), "--title", f"asyncrl on {args.env}, seed {seed}"], check=True, capture_output=True)
    return {
        "seed": seed,
        "command": "asyncrl " + " ".join(cmd[3:]),
        "run_dir": str(run_dir),
        "settings": {f"{group}.{name}": config[group][name] for group, names in SETTINGS.items() for name in names},
        "status": summary["status"],
        "steps": summary["frames"],  # one frame per step off Atari
        "train_seconds": summary["wall_seconds"],
        "process_seconds": round(process_seconds, 1),
        "steps_per_second": summary["frames_per_second"],
        "episodes": summary["episodes"],
        "final_mean_last_10": mean_or_none(returns[-WINDOW:]),
        "final_mean_last_100": summary["mean_return_last_100"],
        "evaluation": {"episodes": evaluation["episodes"], "policy": evaluation["policy"],
                       "mean": evaluation["mean_return"], "std": evaluation["std_return"],
                       "min": evaluation["min_return"], "max": evaluation["max_return"],
                       "mean_length": statistics.mean(evaluation["lengths"]),
                       "gait": asyncrl_gait(run_dir, args.eval_episodes, evaluation["returns"])},
        "curve": str(png) if returns else None,
    }


# The settings a reader compares runs by (all of them are in each run's config.json).
SETTINGS = {
    "run": ("workers", "envs_per_worker"),
    "optim": ("lr", "rms_eps", "max_grad_norm"),
    "algo": ("t_max", "entropy_beta", "gamma"),
    "net": ("hidden", "activation", "policy_std", "obs_norm", "reward_norm", "shared_torso"),
}


def run_sb3(args, seed: int, run_dir: Path, seconds: float) -> dict:
    cmd = [sys.executable, __file__, "--sb3-child", str(run_dir), "--env", args.env, "--seeds", str(seed),
           "--steps", str(args.steps), "--minutes", f"{seconds / 60:.6g}", "--eval-episodes", str(args.eval_episodes),
           "--baseline", args.baseline]
    print(f"$ {BASELINES[args.baseline]} (RL Zoo's settings) on {args.env}, seed {seed}: {args.steps:,} steps "
          f"or {seconds:.0f} s, whichever comes first", flush=True)
    started = time.monotonic()
    subprocess.run(cmd, check=True)
    result = json.loads((run_dir / "result.json").read_text())
    result["process_seconds"] = round(time.monotonic() - started, 1)
    return result


def sb3_child(args) -> None:
    """Train SB3 A2C for --minutes or --steps, write metrics.csv like asyncrl's, evaluate; in its own process."""
    import numpy as np
    import torch
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)  # as asyncrl's learners; SB3 would otherwise take every core
    run_dir, seed = Path(args.sb3_child), args.seeds[0]
    run_dir.mkdir(parents=True)
    zoo = zoo_settings(args.env)
    kwargs = dict(zoo["kwargs"])
    if isinstance(kwargs.get("learning_rate"), tuple):  # the Zoo's lin_X: X times the progress remaining
        start = kwargs["learning_rate"][1]
        kwargs["learning_rate"] = lambda remaining: remaining * start
    env = VecNormalize(make_vec_env(args.env, n_envs=zoo["n_envs"], seed=seed), **zoo["normalize"])
    model = A2C("MlpPolicy", env, seed=seed, verbose=0, **kwargs)
    model.set_logger(silent_sb3_logger())
    command = (f"A2C('MlpPolicy', VecNormalize(make_vec_env('{args.env}', n_envs={zoo['n_envs']}), "
               f"**{zoo['normalize']}), **{zoo['kwargs']})")
    metrics = open(run_dir / "metrics.csv", "w", newline="")  # noqa: SIM115 (written while SB3 trains)
    writer = csv.writer(metrics)
    writer.writerow(["frames", "wall_seconds", "worker", "return", "length"])
    limit = args.minutes * 60

    class Record(BaseCallback):
        """Logs every finished episode (make_vec_env's Monitor sees raw rewards) and stops at the time limit."""

        def _on_training_start(self) -> None:
            self.start = time.monotonic()

        def _on_step(self) -> bool:
            elapsed = time.monotonic() - self.start
            for info in self.locals["infos"]:
                if "episode" in info:
                    writer.writerow([self.num_timesteps, round(elapsed, 2), 0, float(info["episode"]["r"]),
                                     int(info["episode"]["l"])])
            return elapsed < limit

    record = Record()
    model.learn(total_timesteps=args.steps, callback=record)
    train_seconds = time.monotonic() - record.start
    metrics.close()
    model.save(run_dir / "model.zip")
    env.save(str(run_dir / "vecnormalize.pkl"))

    # Its mean action on raw rewards, the observation statistics frozen (as the Zoo evaluates).
    eval_env = VecNormalize(make_vec_env(args.env, n_envs=1, seed=seed + 10_000), training=False, norm_reward=False)
    eval_env.obs_rms = env.obs_rms
    scores, lengths, gait = sb3_episodes(model, eval_env, args.eval_episodes)
    returns = episode_returns(run_dir / "metrics.csv")
    result = {
        "seed": seed,
        "command": command,
        "run_dir": str(run_dir),
        "steps": int(model.num_timesteps),
        "train_seconds": round(train_seconds, 2),
        "steps_per_second": round(model.num_timesteps / train_seconds, 1),
        "episodes": len(returns),
        "final_mean_last_10": mean_or_none(returns[-WINDOW:]),
        "final_mean_last_100": mean_or_none(returns[-100:]),
        "evaluation": {"episodes": len(scores), "policy": "mean action", "mean": float(np.mean(scores)),
                       "std": float(np.std(scores)), "min": float(np.min(scores)), "max": float(np.max(scores)),
                       "mean_length": float(np.mean(lengths)), "gait": gait},
    }
    (run_dir / "result.json").write_text(json.dumps(result, indent=2))


def plot(out_dir: Path, results: dict, title: str) -> Path | None:
    return plot_runs(out_dir / "curves.png", results, BASELINES.get(results["baseline_name"]), WINDOW, title)


def report(results: dict) -> None:
    print(f"\n{results['env']}, {results['steps']:,} steps (at most {results['minutes']:g} minutes) per run; "
          f"{results['machine']}")
    episodes = results["asyncrl"][0]["evaluation"]["episodes"] if results["asyncrl"] else 10
    print(f"| run | seed | steps | minutes | steps/s | last 10 episodes | evaluation ({episodes} episodes, mean action) "
          "| its episodes' length | forward velocity | upright |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    baseline = BASELINES.get(results["baseline_name"], "")
    for name, rows in (("asyncrl", results["asyncrl"]), (baseline, results.get("baseline") or [])):
        for r in rows:
            ev = r["evaluation"]
            gait = ev.get("gait") or {}
            velocity, upright = gait.get("forward_velocity"), gait.get("upright")
            print(f"| {name} | {r['seed']} | {r['steps']:,} | {r['train_seconds'] / 60:.1f} | "
                  f"{r['steps_per_second']:,.0f} | {fmt(r['final_mean_last_10'])} | {fmt(ev['mean'])} ± {fmt(ev['std'])} | "
                  f"{fmt(ev.get('mean_length'))} | {'–' if velocity is None else f'{velocity:.2f}'} | "
                  f"{'–' if upright is None else f'{upright:.0%}'} |")
    for name, rows in (("asyncrl", results["asyncrl"]), (baseline, results.get("baseline") or [])):
        if len(rows) > 1:
            means = [r["evaluation"]["mean"] for r in rows]
            print(f"{name}: evaluation {statistics.mean(means):,.1f} ± {statistics.pstdev(means):,.1f} over "
                  f"{len(rows)} seeds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="HalfCheetah-v5", help="a continuous-action task (default: HalfCheetah-v5)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed (default: 0)")
    parser.add_argument("--steps", type=parse_count, default=1_000_000,
                        help="environment steps per run, also the horizon asyncrl's lr anneals over (default: 1M)")
    parser.add_argument("--minutes", type=float, default=60.0,
                        help="stop a run after this much wall-clock too (default: 60)")
    parser.add_argument("--eval-episodes", type=int, default=10, help="evaluation episodes (default: 10)")
    parser.add_argument("--baseline", choices=tuple(BASELINES), default=None,
                        help="also train SB3 A2C with the RL Zoo's settings for the task, and evaluate it alike")
    parser.add_argument("--baseline-budget", choices=("wall-clock", "steps"), default="wall-clock",
                        help="the baseline trains for the seconds asyncrl's run trained (at most --steps), or for "
                             "--steps (at most --minutes) (default: wall-clock)")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="a new directory for the runs, mujoco.json and curves.png "
                             "(default: runs/bench-mujoco-<task>-<time>)")
    parser.add_argument("--sb3-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("train_flags", nargs="*", help="more `asyncrl train` flags, after --")
    args = parser.parse_args()
    if args.sb3_child is not None:
        sb3_child(args)
        return
    if args.minutes <= 0 or args.steps < 1 or args.eval_episodes < 1:
        parser.exit(2, "mujoco.py: --minutes and --steps must be positive and --eval-episodes at least 1\n")
    if any(f in ("--frames", "--max-seconds", "--seed", "--run-dir") or f.startswith(
            ("--frames=", "--max-seconds=", "--seed=", "--run-dir=")) for f in args.train_flags):
        parser.exit(2, "mujoco.py: give the budget, seeds and directory as --steps, --minutes, --seeds and "
                       "--out-dir, not as train flags\n")
    if args.baseline:
        try:
            import stable_baselines3  # noqa: F401
        except ImportError:
            parser.exit(2, f"mujoco.py: --baseline {args.baseline} needs Stable-Baselines3: pip install -e '.[bench]'\n")
    task = args.env.split("/")[-1].split("-")[0]
    out_dir = args.out_dir or Path("runs") / f"bench-mujoco-{task}-{datetime.now():%Y%m%d-%H%M%S}"
    if out_dir.exists():
        parser.exit(2, f"mujoco.py: {out_dir} exists: give a new --out-dir (nothing is overwritten)\n")
    out_dir.mkdir(parents=True)

    results: dict = {"machine": machine(), "env": args.env, "steps": args.steps, "minutes": args.minutes,
                     "started": datetime.now().isoformat(timespec="seconds"),
                     "command": "python bench/mujoco.py " + " ".join(sys.argv[1:]), "asyncrl": [],
                     "baseline_name": args.baseline, "baseline_budget": args.baseline_budget if args.baseline else None,
                     "baseline": [] if args.baseline else None}
    for seed in args.seeds:  # alternating, so that a host whose speed drifts affects both alike
        run = run_asyncrl(args, seed, out_dir / f"asyncrl-seed{seed}")
        results["asyncrl"].append(run)
        (out_dir / "mujoco.json").write_text(json.dumps(results, indent=2))
        if args.baseline:
            seconds = run["train_seconds"] if args.baseline_budget == "wall-clock" else args.minutes * 60
            results["baseline"].append(run_sb3(args, seed, out_dir / f"{args.baseline}-seed{seed}", seconds))
            (out_dir / "mujoco.json").write_text(json.dumps(results, indent=2))
    curves = plot(out_dir, results, f"{args.env}: {args.steps:,} steps or {args.minutes:g} minutes per run")
    results["curves"] = str(curves) if curves else None
    (out_dir / "mujoco.json").write_text(json.dumps(results, indent=2))
    report(results)
    print(f"\nresults: {out_dir / 'mujoco.json'}; curves: {results['curves']}")


if __name__ == "__main__":
    main()
