"""What this machine allows: the compute an A3C learner cannot avoid, measured piece by piece.

(a) the Atari pipeline the learners use (Gymnasium's AtariPreprocessing with the paper's
    settings, frame stack, reward clipping), stepped with random actions in one process:
    emulator frames per second per core; and raw emulation (the ALE alone) for comparison.
(b) the Atari network (conv 16x8x8/4, conv 32x4x4/2, FC 256, softmax policy and value) with one
    intra-op thread, as each learner runs it: a forward pass at the acting batch (one state per
    environment the learner steps, K) and forward + backward at the loss batch ((t_max + 1) K
    states), plus one update (gradient clipping, shared RMSProp, copying theta to theta').
(c) from those, the best emulator frames/s an A3C FF learner could reach if nothing else cost
    anything, per core and on all cores (cores x per core: learners do not share work):

        seconds per agent step = env + forward(K) / K + fwd_bwd((t_max+1) K) / (t_max K)
                                 + update / (t_max K);   frames/s = action_repeat / that

    python bench/limits.py                    # K = 1, 2, 4, 8, 16, 32 on ALE/Pong-v5
    python bench/limits.py --env ALE/Breakout-v5 --batches 1 16 --json limits.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from throughput import machine

from asyncrl.config import AlgoConfig, EnvConfig, NetConfig, frames_per_step
from asyncrl.envs import build_env, describe_spaces
from asyncrl.nets import build_network
from asyncrl.optim import SharedRMSprop


def env_seconds_per_step(env_id: str, steps: int) -> float:
    """Median seconds per agent step of the learners' Atari pipeline (resets included)."""
    env = build_env(EnvConfig(env_id=env_id, terminal_on_life_loss=True), training=True, seed=0)
    rng = np.random.default_rng(0)
    n = env.action_space.n
    env.reset()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(steps // 5):
            _, _, terminated, truncated, _ = env.step(int(rng.integers(n)))
            if terminated or truncated:
                env.reset()
        times.append((time.perf_counter() - start) / (steps // 5))
    env.close()
    return statistics.median(times)


def raw_emulation_fps(env_id: str, frames: int) -> float:
    """The ALE alone: emulator frames per second without any wrapper or preprocessing."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    env = gym.make(env_id, frameskip=1, repeat_action_probability=0.0, obs_type="grayscale")
    ale = env.unwrapped.ale
    ale.reset_game()
    actions = ale.getMinimalActionSet()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(frames):
        ale.act(actions[rng.integers(len(actions))])
        if ale.game_over():
            ale.reset_game()
    elapsed = time.perf_counter() - start
    env.close()
    return frames / elapsed


def timed(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` after two warm-up calls."""
    fn(), fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def network_seconds(obs_shape, actions, batches: list[int], t_max: int, repeats: int) -> list[dict]:
    net = build_network(obs_shape, actions, "actor_critic", NetConfig())
    shared = build_network(obs_shape, actions, "actor_critic", NetConfig())
    params, shared_params = list(net.parameters()), list(shared.parameters())
    rms = SharedRMSprop(shared_params)
    rows = []
    for k in batches:
        acting = torch.randint(0, 256, (k, *obs_shape), dtype=torch.uint8)
        segment = torch.randint(0, 256, ((t_max + 1) * k, *obs_shape), dtype=torch.uint8)

        def forward(acting=acting):
            with torch.no_grad():
                net(acting)

        def forward_backward(segment=segment):
            policy, values = net(segment)
            loss = policy.logsumexp(-1).sum() + values.pow(2).sum()
            net.zero_grad(set_to_none=False)
            loss.backward()

        forward_backward()  # gradients exist for the update

        def update():
            torch.nn.utils.clip_grad_norm_(params, 40.0)
            rms.step([p.grad for p in params], 7e-4)
            with torch.no_grad():
                for local, source in zip(params, shared_params, strict=True):
                    local.copy_(source)

        rows.append({"envs_per_learner": k, "forward_s": timed(forward, repeats),
                     "forward_backward_s": timed(forward_backward, repeats), "update_s": timed(update, repeats)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32],
                        help="environments per learner (K) to evaluate")
    parser.add_argument("--steps", type=int, default=10_000, help="agent steps to time the pipeline on")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as each learner runs

    env_config = EnvConfig(env_id=args.env)
    repeat = frames_per_step(env_config)
    t_max = AlgoConfig().t_max
    probe = build_env(env_config, training=True)
    obs_shape, _, actions = describe_spaces(probe)
    probe.close()

    raw = raw_emulation_fps(args.env, 20_000)
    env_s = env_seconds_per_step(args.env, args.steps)
    net_rows = network_seconds(obs_shape, actions, args.batches, t_max, args.repeats)
    for row in net_rows:
        k = row["envs_per_learner"]
        compute = row["forward_s"] / k + (row["forward_backward_s"] + row["update_s"]) / (t_max * k)
        row["network_s_per_step"] = compute
        row["limit_fps_per_core"] = repeat / (env_s + compute)
        row["limit_fps"] = row["limit_fps_per_core"] * args.cores
    best = max(net_rows, key=lambda r: r["limit_fps"])

    print(f"{args.env} on {machine()}; one thread per learner, t_max {t_max}\n")
    print(f"(a) raw emulation: {raw:,.0f} frames/s per core; the learners' pipeline: "
          f"{env_s * 1e3:.3f} ms per agent step = {repeat / env_s:,.0f} frames/s per core\n")
    print("| K (envs per learner) | forward, batch K (ms) | forward+backward, batch 6K (ms) | update (ms) "
          "| network per agent step (ms) | (c) limit frames/s per core | on all cores |")
    print("|---|---|---|---|---|---|---|")
    for r in net_rows:
        print(f"| {r['envs_per_learner']} | {r['forward_s'] * 1e3:.3f} | {r['forward_backward_s'] * 1e3:.3f} "
              f"| {r['update_s'] * 1e3:.3f} | {r['network_s_per_step'] * 1e3:.3f} "
              f"| {r['limit_fps_per_core']:,.0f} | {r['limit_fps']:,.0f} |")
    print(f"\nlimit: {best['limit_fps']:,.0f} frames/s on {args.cores} cores (K = {best['envs_per_learner']})")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine(), "env": args.env, "cores": args.cores, "raw_emulation_fps_per_core": raw,
            "env_seconds_per_step": env_s, "env_fps_per_core": repeat / env_s, "network": net_rows,
            "limit_fps": best["limit_fps"], "limit_envs_per_learner": best["envs_per_learner"]}, indent=2))


if __name__ == "__main__":
    main()
