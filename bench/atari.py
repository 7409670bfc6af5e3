"""Time to a score on an Atari game, per seed, and the final agent's score under the paper's protocol.

For each of ``--seeds``: `asyncrl train --env GAME` (the defaults, or any train flags given after
``--``) until the mean of the last 10 games reaches ``--score`` or ``--minutes`` pass; then the
final network is evaluated with the paper's protocol (`asyncrl evaluate`: 30 episodes, up to 30
no-op starts, at most 5 minutes of play each, raw game scores) and its learning curve drawn
(`asyncrl plot`). Everything goes to one JSON (``atari.json``) in ``--out-dir``, with the command,
the machine and, per seed, the frames and seconds to the score (null if not reached), frames/s,
the final 10-game and 100-game training means and the evaluation's mean and std.

With ``--baseline sb3-a2c`` each seed also trains Stable-Baselines3's A2C as RL Baselines3 Zoo
trains Atari (as ``bench/compare.py`` does: `make_atari_env` on the NoFrameskip-v4 game, 16
environments, 4 frames stacked, CnnPolicy, n_steps 5, ent_coef 0.01, vf_coef 0.25,
RMSpropTFLike(eps=1e-5), lr 7e-4), for the same wall-clock, in its own process, alternating with
asyncrl's run; it is evaluated the same way (30 episodes, no-op starts, unclipped whole games, at
most 18,000 emulator frames, actions sampled from its policy as asyncrl's are), and the two are
printed side by side (``--baseline-only`` runs the baseline alone). With ``--baseline sb3-dqn`` the
baseline is SB3's DQN with the RL Zoo's Atari settings (one environment, replay memory, lr 1e-4,
batch 32, learning starts at 100k steps, target network every 10k steps, a gradient step every 4,
epsilon 1 -> 0.1 over the first 1M steps, i.e. 4M frames), the method the paper's asynchronous
Q-learning is measured against. One change from the Zoo: its 1M-transition memory of 4-frame stacks
is 28 GB, more than this machine has, so the memory holds ``--dqn-buffer`` transitions (default
500,000: 14 GB, stored once rather than twice by SB3's optimize_memory_usage). On the 2-core machine
SB3 DQN trains at about 450 frames/s (112 steps/s, measured on Breakout), so an hour is about 0.5M
steps: the memory never fills, and the run is the one the Zoo's 1M would give; epsilon is still
about 0.55 at its end, as the Zoo's schedule has it. It is evaluated with epsilon 0.05, as asyncrl
evaluates its Q methods. Both need the benchmark extra: pip install -e '.[bench]'. With ``--frames``
every run also stops at that many frames, so that the two learn from equal frames: asyncrl with
A2C's settings beside SB3 A2C tells learning per frame from a bug (third example; ``--workers 1
--envs-per-worker 16`` is A2C's one learner for 16 environments, asyncrl's summed loss with clip 40
is SB3's mean loss with clip 0.5, and its value weight 0.25 is SB3's vf_coef).

    python bench/atari.py --env ALE/Pong-v5 --score 18 --minutes 60 --seeds 0 1
    python bench/atari.py --env ALE/Breakout-v5 --minutes 60 --seeds 0 1 --baseline sb3-a2c
    python bench/atari.py --env ALE/Pong-v5 --frames 10000000 --minutes 120 --baseline sb3-a2c -- \
        --workers 1 --envs-per-worker 16 --value-loss-coef 0.25 --no-lr-anneal
    python bench/atari.py --env ALE/Breakout-v5 --minutes 60 --seeds 0 1 --baseline sb3-dqn -- --algo n-step-q
    python bench/atari.py --minutes 20 --seeds 0 -- --lr 1e-3 --rms-eps 1e-5   # any train flags
    python bench/atari.py --env ALE/Pong-v5 --minutes 60 --seeds 0 --baseline sb3-dqn --baseline-only

Time is counted as `asyncrl train` counts it (`--max-seconds`, from the start of its training
loop); the JSON also has each process's whole wall-clock, start-up and evaluation included, and
each run's learning curve as ``curve_points`` (every minute: minutes, frames, mean of the last 10
games), from which ``bench/table.py --figure`` draws the games side by side. ``--add-curves
OUT_DIR`` gives them to an atari.json written before they were recorded, while its run
directories still exist.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import (
    curve_points,
    episode_returns,
    first_reaching,
    fmt,
    machine,
    mean_or_none,
    plot_runs,
    silent_sb3_logger,
)

from asyncrl.config import parse_count

WINDOW = 10  # games in the running mean that --score is judged by
SB3_TIMESTEP_FRAMES = 4  # AtariWrapper's frame skip: one SB3 timestep is 4 emulator frames
EVAL_FRAMES = 18_000  # the protocol's 5 minutes of play
BASELINES = {"sb3-a2c": "SB3 A2C", "sb3-dqn": "SB3 DQN"}  # --baseline: the name in tables and plots


def sb3_game(env_id: str) -> str:
    """ALE/Pong-v5 -> PongNoFrameskip-v4: the same game without ALE's own frameskip and sticky
    actions, which is what SB3's AtariWrapper expects (and what asyncrl's pipeline does)."""
    match = re.fullmatch(r"ALE/(\w+)-v5", env_id)
    if match:
        return f"{match.group(1)}NoFrameskip-v4"
    if env_id.endswith("NoFrameskip-v4"):
        return env_id
    raise SystemExit(f"atari.py: --baseline needs an ALE/<Game>-v5 or <Game>NoFrameskip-v4 id, got {env_id}")


def run_asyncrl(args, seed: int, run_dir: Path) -> dict:
    cmd = [sys.executable, "-m", "asyncrl", "train", "--env", args.env, "--seed", str(seed),
           "--max-seconds", f"{args.minutes * 60:g}", "--run-dir", str(run_dir), "--log-interval", "60"]
    if args.score is not None and not args.no_stop:
        cmd += ["--stop-at-return", f"{args.score:g}", "--stop-episodes", str(WINDOW)]
    if args.frames is not None:
        cmd += ["--frames", str(args.frames)]
    cmd += args.train_flags
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
    if returns:  # a budget too short for a single game has no curve
        subprocess.run([sys.executable, "-m", "asyncrl", "plot", str(run_dir), "-o", str(png), "--smooth",
                        str(WINDOW), "--title", f"asyncrl on {args.env}, seed {seed}"], check=True, capture_output=True)
    return {
        "seed": seed,
        "command": "asyncrl " + " ".join(cmd[3:]),
        "run_dir": str(run_dir),
        # run.frames is the budget the lr anneals over (with lr_anneal), not the frames trained (those are
        # "frames" below).
        "settings": {k: config[g][k] for g, k in (("run", "workers"), ("run", "envs_per_worker"), ("optim", "lr"),
                                                   ("optim", "lr_anneal"), ("optim", "rms_eps"), ("optim", "rms_init"),
                                                   ("net", "init"), ("net", "q_init_gain"), ("algo", "t_max"),
                                                   ("algo", "entropy_beta"), ("run", "frames"), ("env", "terminal_on_life_loss"),
                                                   ("env", "vector_env"))},
        "status": summary["status"],
        "reached": first_reaching(run_dir / "metrics.csv", args.score, WINDOW) if args.score is not None else None,
        "frames": summary["frames"],
        "train_seconds": summary["wall_seconds"],
        "process_seconds": round(process_seconds, 1),
        "frames_per_second": summary["frames_per_second"],
        "episodes": summary["episodes"],
        "final_mean_last_10": mean_or_none(returns[-WINDOW:]),
        "final_mean_last_100": summary["mean_return_last_100"],
        "evaluation": {"episodes": evaluation["episodes"], "mean": evaluation["mean_return"],
                       "std": evaluation["std_return"], "min": evaluation["min_return"],
                       "max": evaluation["max_return"], "human_normalized": evaluation["human_normalized"],
                       "truncated_episodes": evaluation["truncated_episodes"]},
        "curve": str(png) if returns else None,
        "curve_points": curve_points(run_dir / "metrics.csv", WINDOW),
    }


def run_sb3(args, seed: int, run_dir: Path) -> dict:
    cmd = [sys.executable, __file__, "--sb3-child", str(run_dir), "--env", args.env, "--seeds", str(seed),
           "--minutes", f"{args.minutes:g}", "--eval-episodes", str(args.eval_episodes), "--baseline", args.baseline,
           "--dqn-buffer", str(args.dqn_buffer), "--dqn-learning-starts", str(args.dqn_learning_starts)]
    if args.score is not None:
        cmd += ["--score", f"{args.score:g}"] + (["--no-stop"] if args.no_stop else [])
    if args.frames is not None:
        cmd += ["--frames", str(args.frames)]
    print(f"$ {BASELINES[args.baseline]} (RL Zoo's Atari settings) on {sb3_game(args.env)}, seed {seed}", flush=True)
    started = time.monotonic()
    subprocess.run(cmd, check=True)
    result = json.loads((run_dir / "result.json").read_text())
    result["process_seconds"] = round(time.monotonic() - started, 1)
    result["reached"] = first_reaching(run_dir / "metrics.csv", args.score, WINDOW) if args.score is not None else None
    result["curve_points"] = curve_points(run_dir / "metrics.csv", WINDOW)
    return result


def add_curves(out_dir: Path) -> int:
    """Give an out-dir's atari.json, written before runs recorded their curve, each run's
    ``curve_points`` from its run directory's metrics.csv. Returns the runs it gave them to."""
    path = out_dir / "atari.json"
    results = json.loads(path.read_text())
    added = 0
    for run in (results.get("asyncrl") or []) + (results.get("baseline") or []):
        metrics = Path(run["run_dir"]) / "metrics.csv"
        if "curve_points" not in run and metrics.is_file():
            run["curve_points"] = curve_points(metrics, results.get("window", WINDOW))
            added += 1
    path.write_text(json.dumps(results, indent=2))
    return added


def sb3_model(args, game: str, seed: int):
    """The baseline as RL Baselines3 Zoo trains Atari (hyperparams/a2c.yml, dqn.yml): (model, command,
    timesteps to learn for). DQN's timesteps are the Zoo's 10M because its epsilon anneals over a
    fraction of them; A2C's rate is constant, so it is given no end but the callback's."""
    from stable_baselines3 import A2C, DQN
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
    from stable_baselines3.common.vec_env import VecFrameStack

    if args.baseline == "sb3-a2c":
        env = VecFrameStack(make_atari_env(game, n_envs=16, seed=seed), n_stack=4)
        model = A2C("CnnPolicy", env, n_steps=5, ent_coef=0.01, vf_coef=0.25, learning_rate=7e-4, seed=seed,
                    verbose=0, policy_kwargs={"optimizer_class": RMSpropTFLike, "optimizer_kwargs": {"eps": 1e-5}})
        return model, (f"A2C('CnnPolicy', VecFrameStack(make_atari_env('{game}', n_envs=16), 4), n_steps=5, "
                       "ent_coef=0.01, vf_coef=0.25, learning_rate=7e-4, RMSpropTFLike(eps=1e-5))"), 10**10
    env = VecFrameStack(make_atari_env(game, n_envs=1, seed=seed), n_stack=4)
    # optimize_memory_usage keeps each stack once (not again as the next observation); SB3 then
    # needs the time-limit bookkeeping off, which AtariWrapper's games (no time limit) do not use.
    settings = {"buffer_size": args.dqn_buffer, "learning_rate": 1e-4, "batch_size": 32,
                "learning_starts": args.dqn_learning_starts, "target_update_interval": 10_000, "train_freq": 4,
                "gradient_steps": 1, "exploration_fraction": 0.1, "exploration_final_eps": 0.1,
                "optimize_memory_usage": True}
    model = DQN("CnnPolicy", env, seed=seed, verbose=0, replay_buffer_kwargs={"handle_timeout_termination": False},
                **settings)
    described = ", ".join(f"{k}={v}" for k, v in settings.items())
    return model, f"DQN('CnnPolicy', VecFrameStack(make_atari_env('{game}', n_envs=1), 4), {described})", 10_000_000


def sb3_child(args) -> None:
    """Train the SB3 baseline for --minutes (or to --score), write metrics.csv like asyncrl's, evaluate,
    in its own process."""
    import ale_py
    import gymnasium as gym
    import numpy as np
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    run_dir, seed, game = Path(args.sb3_child), args.seeds[0], sb3_game(args.env)
    run_dir.mkdir(parents=True)
    model, command, timesteps = sb3_model(args, game, seed)
    model.set_logger(silent_sb3_logger())
    # Line-buffered, so that bench/curve.py can read the baseline's games while it trains.
    metrics = open(run_dir / "metrics.csv", "w", newline="", buffering=1)  # noqa: SIM115 (written while SB3 trains)
    writer = csv.writer(metrics)
    writer.writerow(["frames", "wall_seconds", "worker", "return", "length"])
    limit = args.minutes * 60

    class Record(BaseCallback):
        """Logs every finished game (the Monitor inside AtariWrapper sees whole games, raw score) and
        stops at the time limit or, like asyncrl's --stop-at-return, at the score."""

        def _on_training_start(self) -> None:
            self.start = time.monotonic()
            self.recent: list[float] = []

        def _on_step(self) -> bool:
            elapsed = time.monotonic() - self.start
            for info in self.locals["infos"]:
                if "episode" in info:
                    ret = float(info["episode"]["r"])
                    writer.writerow([self.num_timesteps * SB3_TIMESTEP_FRAMES, round(elapsed, 2), 0, ret,
                                     # SB3's Monitor sits below the frame skip: its length is in
                                     # frames (the resets' steps counted too)
                                     int(info["episode"]["l"]) // SB3_TIMESTEP_FRAMES])
                    self.recent = (self.recent + [ret])[-WINDOW:]
            if args.score is not None and not args.no_stop and len(self.recent) == WINDOW \
                    and sum(self.recent) / WINDOW >= args.score:
                return False
            if args.frames is not None and self.num_timesteps * SB3_TIMESTEP_FRAMES >= args.frames:
                return False
            return elapsed < limit

    record = Record()
    model.learn(total_timesteps=timesteps, callback=record)
    train_seconds = time.monotonic() - record.start
    metrics.close()
    model.save(run_dir / "model.zip")

    # The paper's protocol, as asyncrl evaluate plays it: whole games (no life-loss terminal),
    # unclipped scores, up to 30 no-ops at reset (AtariWrapper's), at most 18,000 frames each.
    # A2C samples its policy; DQN acts as `asyncrl evaluate` plays a Q method on Atari.
    if args.baseline == "sb3-dqn":
        from asyncrl.agent import ATARI_EVAL_EPSILON  # here, not at the top: it imports PyTorch

        model.exploration_rate = ATARI_EVAL_EPSILON
    eval_env = VecFrameStack(make_atari_env(game, n_envs=1, seed=seed + 10_000, wrapper_kwargs={
        "clip_reward": False, "terminal_on_life_loss": False}), n_stack=4)
    scores = []
    obs = eval_env.reset()
    score, steps = 0.0, 0
    while len(scores) < args.eval_episodes:
        action, _ = model.predict(obs, deterministic=False)
        obs, reward, done, _ = eval_env.step(action)
        score += float(reward[0])
        steps += 1
        if done[0] or steps * SB3_TIMESTEP_FRAMES >= EVAL_FRAMES:
            scores.append(score)
            score, steps = 0.0, 0
            if not done[0]:
                obs = eval_env.reset()
    returns = episode_returns(run_dir / "metrics.csv")
    frames = model.num_timesteps * SB3_TIMESTEP_FRAMES
    result = {
        "seed": seed,
        "command": command,
        "run_dir": str(run_dir),
        "frames": frames,
        "train_seconds": round(train_seconds, 2),
        "frames_per_second": round(frames / train_seconds, 1),
        "episodes": len(returns),
        "updates": model._n_updates,  # gradient steps taken: DQN takes none before its learning starts
        "final_mean_last_10": mean_or_none(returns[-WINDOW:]),
        "final_mean_last_100": mean_or_none(returns[-100:]),
        "evaluation": {"episodes": len(scores), "mean": float(np.mean(scores)), "std": float(np.std(scores)),
                       "min": float(np.min(scores)), "max": float(np.max(scores))},
    }
    (run_dir / "result.json").write_text(json.dumps(result, indent=2))


def plot(out_dir: Path, results: dict, title: str) -> Path | None:
    return plot_runs(out_dir / "curves.png", results, BASELINES.get(results["baseline_name"]), WINDOW, title)


def budget(minutes: float, frames: int | None) -> str:
    return f"{minutes:g} minutes per run" if frames is None else f"{frames:,} frames (at most {minutes:g} minutes) per run"


def report(results: dict) -> None:
    print(f"\n{results['env']}, {budget(results['minutes'], results.get('frames'))}; {results['machine']}")
    target = results["score"]
    head = f"| run | seed | frames | frames/s | to {target:g} (frames, min) |" if target is not None else \
        "| run | seed | frames | frames/s |"
    rows = results["asyncrl"] + (results.get("baseline") or [])  # --baseline-only: no asyncrl rows
    episodes = rows[0]["evaluation"]["episodes"] if rows else 30
    print(head + f" last 10 games | evaluation ({episodes} episodes, no-op starts) |")
    print("|---" * (head.count("|") + 1) + "|")
    baseline = BASELINES.get(results["baseline_name"], "")
    for name, rows in (("asyncrl", results["asyncrl"]), (baseline, results.get("baseline") or [])):
        for r in rows:
            reached = r.get("reached")
            cells = [name, str(r["seed"]), f"{r['frames']:,}", f"{r['frames_per_second']:,.0f}"]
            if target is not None:
                cells.append(f"{reached['frames']:,}, {reached['wall_seconds'] / 60:.1f}" if reached else "not reached")
            ev = r["evaluation"]
            cells += [fmt(r["final_mean_last_10"]), f"{fmt(ev['mean'])} ± {fmt(ev['std'])}"]
            print("| " + " | ".join(cells) + " |")
    for name, rows in (("asyncrl", results["asyncrl"]), (baseline, results.get("baseline") or [])):
        if len(rows) > 1:
            means = [r["evaluation"]["mean"] for r in rows]
            print(f"{name}: evaluation {statistics.mean(means):,.1f} ± {statistics.pstdev(means):,.1f} over "
                  f"{len(rows)} seeds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="ALE/Pong-v5", help="Atari game (default: ALE/Pong-v5)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed (default: 0)")
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-clock per run (default: 60)")
    parser.add_argument("--score", type=float, default=None,
                        help=f"stop once the mean of the last {WINDOW} games reaches this, and record when "
                             "(default: train for --minutes)")
    parser.add_argument("--no-stop", action="store_true", help="record when --score is reached, but train on")
    parser.add_argument("--frames", type=parse_count, default=None,
                        help="stop each run, asyncrl's and the baseline's, after this many frames too (whichever "
                             "comes first, these or --minutes): with --baseline, learning at equal frames. asyncrl "
                             "gets it as its --frames, which is also the horizon its lr anneals over; add "
                             "-- --no-lr-anneal for A2C's constant rate")
    parser.add_argument("--eval-episodes", type=int, default=30, help="evaluation episodes (default: 30)")
    parser.add_argument("--baseline", choices=tuple(BASELINES), default=None,
                        help="also train this baseline for the same wall-clock and evaluate it alike: "
                             "SB3 A2C or SB3 DQN with the RL Zoo's Atari settings")
    parser.add_argument("--baseline-only", action="store_true",
                        help="train and evaluate only the --baseline, not asyncrl (its runs of the same game in "
                             "another atari.json; bench/table.py reads both)")
    parser.add_argument("--dqn-buffer", type=parse_count, default=500_000,
                        help="SB3 DQN's replay memory in transitions (default: 500,000, 14 GB; the Zoo's 1M "
                             "needs 28 GB)")
    parser.add_argument("--dqn-learning-starts", type=parse_count, default=100_000,
                        help="SB3 DQN's steps before its first update (default: the Zoo's 100,000)")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="a new directory for the runs, atari.json and curves.png "
                             "(default: runs/bench-atari-<game>-<time>)")
    parser.add_argument("--add-curves", type=Path, default=None, metavar="OUT_DIR",
                        help="train nothing: give OUT_DIR's atari.json, written before runs recorded their "
                             "curve, each run's curve_points from its run directory")
    parser.add_argument("--sb3-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("train_flags", nargs="*", help="more `asyncrl train` flags, after --")
    args = parser.parse_args()
    if args.sb3_child is not None:
        sb3_child(args)
        return
    if args.add_curves is not None:
        if not (args.add_curves / "atari.json").is_file():
            parser.exit(2, f"atari.py: no atari.json in {args.add_curves}\n")
        print(f"{args.add_curves / 'atari.json'}: curve points for {add_curves(args.add_curves)} run(s)")
        return
    if args.minutes <= 0 or args.eval_episodes < 1 or (args.frames is not None and args.frames < 1):
        parser.exit(2, "atari.py: --minutes and --frames must be positive and --eval-episodes at least 1\n")
    if args.frames is not None and any(f == "--frames" or f.startswith("--frames=") for f in args.train_flags):
        parser.exit(2, "atari.py: give the frames once: --frames, or --frames after --, not both\n")
    if args.dqn_buffer < 1 or args.dqn_learning_starts < 0:
        parser.exit(2, "atari.py: --dqn-buffer must be positive and --dqn-learning-starts not negative\n")
    if args.baseline_only and (not args.baseline or args.train_flags):
        parser.exit(2, "atari.py: --baseline-only needs a --baseline and takes no asyncrl train flags\n")
    if args.baseline:
        sb3_game(args.env)  # a game SB3 can play, before anything trains
        try:
            import stable_baselines3  # noqa: F401
        except ImportError:
            parser.exit(2, f"atari.py: --baseline {args.baseline} needs Stable-Baselines3: pip install -e '.[bench]'\n")
    game = args.env.split("/")[-1].split("-")[0]
    out_dir = args.out_dir or Path("runs") / f"bench-atari-{game}-{datetime.now():%Y%m%d-%H%M%S}"
    if out_dir.exists():
        parser.exit(2, f"atari.py: {out_dir} exists: give a new --out-dir (nothing is overwritten)\n")
    out_dir.mkdir(parents=True)

    results: dict = {"machine": machine(), "env": args.env, "minutes": args.minutes, "frames": args.frames,
                     "score": args.score,
                     "window": WINDOW, "started": datetime.now().isoformat(timespec="seconds"),
                     "command": "python bench/atari.py " + " ".join(sys.argv[1:]), "asyncrl": [],
                     "baseline_name": args.baseline, "baseline": [] if args.baseline else None}
    for seed in args.seeds:  # alternating, so that a host whose speed drifts affects both alike
        if not args.baseline_only:
            results["asyncrl"].append(run_asyncrl(args, seed, out_dir / f"asyncrl-seed{seed}"))
            (out_dir / "atari.json").write_text(json.dumps(results, indent=2))
        if args.baseline:
            results["baseline"].append(run_sb3(args, seed, out_dir / f"{args.baseline}-seed{seed}"))
            (out_dir / "atari.json").write_text(json.dumps(results, indent=2))
    stops = args.score is not None and not args.no_stop
    title = f"up to {args.minutes:g} minutes per run, stopping at {args.score:g}" if stops else \
        budget(args.minutes, args.frames)
    curves = plot(out_dir, results, f"{args.env}: {title}")
    results["curves"] = str(curves) if curves else None
    (out_dir / "atari.json").write_text(json.dumps(results, indent=2))
    report(results)
    print(f"\nresults: {out_dir / 'atari.json'}; curves: {results['curves']}")


if __name__ == "__main__":
    main()
