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

(d) the physical limit, what the machine itself allows, whatever the software around it: raw
    emulation (the ALE alone, action_repeat frames per agent step) plus the network's arithmetic
    per agent step (the multiply-adds of an acting forward pass, a learning forward pass and its
    backward, taken as twice the forward) at the fp32 rate the cores reach on a large matrix
    multiply (measured here, one thread per core):

        seconds per agent step = action_repeat / raw emulation frames/s + MACs per step / MAC rate

    and the fraction of it that training reaches: the default `asyncrl train` on the game for
    ``--train-seconds`` (frames/s once every learner has started, as bench/throughput.py reports).

Everything is measured twice: in one process on an idle machine, and in one process per core
at the same time, as training runs (cores share caches, memory bandwidth and, on a virtual
machine, whatever the host gives). The limit uses the second, the one training can reach.

    python bench/limits.py                    # K = 1, 2, 4, 8, 16, 32 on ALE/Pong-v5
    python bench/limits.py --env ALE/Breakout-v5 --batches 1 16 --json limits.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from throughput import measure as measure_training

from asyncrl.config import PAPER_T_MAX, EnvConfig, NetConfig, frames_per_step
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


def matmul_flops(size: int = 1024, repeats: int = 10) -> float:
    """fp32 floating-point operations per second of one thread on a large matrix multiply."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / timed(lambda: a @ b, repeats)


def forward_macs(obs_shape, actions) -> int:
    """Multiply-adds of the Atari network's forward pass for one state (convolutions and linears)."""
    net = build_network(obs_shape, actions, "actor_critic", NetConfig())
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            kernel = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * kernel
        elif isinstance(module, torch.nn.Linear):
            total += output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        net(torch.zeros((1, *obs_shape), dtype=torch.uint8))
    for hook in hooks:
        hook.remove()
    return total


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


def measure(env_id: str, batches: list[int], steps: int, repeats: int) -> dict:
    """(a) and (b) in this process, with one intra-op thread as each learner runs."""
    torch.set_num_threads(1)
    probe = build_env(EnvConfig(env_id=env_id), training=True)
    obs_shape, _, actions = describe_spaces(probe)
    probe.close()
    return {"raw_fps": raw_emulation_fps(env_id, 20_000), "env_s": env_seconds_per_step(env_id, steps),
            "network": network_seconds(obs_shape, actions, batches, PAPER_T_MAX, repeats),
            "matmul_flops": matmul_flops(), "forward_macs": forward_macs(obs_shape, actions)}


def limits(measured: list[dict], cores: int, repeat: int, t_max: int) -> dict:
    """The median over processes of each time, and the limit (c) they give for every K."""
    env_s = statistics.median(m["env_s"] for m in measured)
    rows = []
    for i, first in enumerate(measured[0]["network"]):
        row = {"envs_per_learner": first["envs_per_learner"]}
        for key in ("forward_s", "forward_backward_s", "update_s"):
            row[key] = statistics.median(m["network"][i][key] for m in measured)
        k = row["envs_per_learner"]
        row["network_s_per_step"] = row["forward_s"] / k + (row["forward_backward_s"] + row["update_s"]) / (t_max * k)
        row["limit_fps_per_core"] = repeat / (env_s + row["network_s_per_step"])
        row["limit_fps"] = row["limit_fps_per_core"] * cores
        rows.append(row)
    raw_fps = statistics.median(m["raw_fps"] for m in measured)
    mac_rate = statistics.median(m["matmul_flops"] for m in measured) / 2
    # Acting forward, learning forward, and a backward pass of about twice the forward's work.
    macs_per_step = 4 * measured[0]["forward_macs"]
    physical_s = repeat / raw_fps + macs_per_step / mac_rate
    return {"raw_emulation_fps_per_core": raw_fps,
            "env_seconds_per_step": env_s, "env_fps_per_core": repeat / env_s, "network": rows,
            "limit_fps": max(r["limit_fps"] for r in rows),
            "limit_envs_per_learner": max(rows, key=lambda r: r["limit_fps"])["envs_per_learner"],
            "physical": {"emulation_s_per_step": repeat / raw_fps, "forward_macs": measured[0]["forward_macs"],
                         "macs_per_step": macs_per_step, "matmul_gflops": 2 * mac_rate / 1e9,
                         "network_s_per_step": macs_per_step / mac_rate,
                         "fps_per_core": repeat / physical_s, "fps": cores * repeat / physical_s}}


def report(title: str, result: dict, cores: int) -> None:
    print(f"### {title}\n")
    print(f"(a) raw emulation: {result['raw_emulation_fps_per_core']:,.0f} frames/s per core; the learners' "
          f"pipeline: {result['env_seconds_per_step'] * 1e3:.3f} ms per agent step = "
          f"{result['env_fps_per_core']:,.0f} frames/s per core\n")
    print("| K (envs per learner) | forward, batch K (ms) | forward+backward, batch 6K (ms) | update (ms) "
          "| network per agent step (ms) | (c) limit frames/s per core | on all cores |")
    print("|---|---|---|---|---|---|---|")
    for r in result["network"]:
        print(f"| {r['envs_per_learner']} | {r['forward_s'] * 1e3:.3f} | {r['forward_backward_s'] * 1e3:.3f} "
              f"| {r['update_s'] * 1e3:.3f} | {r['network_s_per_step'] * 1e3:.3f} "
              f"| {r['limit_fps_per_core']:,.0f} | {r['limit_fps']:,.0f} |")
    print(f"\nlimit: {result['limit_fps']:,.0f} frames/s on {cores} cores "
          f"(K = {result['limit_envs_per_learner']})\n")
    phys = result["physical"]
    print(f"(d) physical limit: emulation {phys['emulation_s_per_step'] * 1e3:.3f} ms per agent step + network "
          f"{phys['macs_per_step'] / 1e6:.1f}M multiply-adds per step (4 x {phys['forward_macs'] / 1e6:.2f}M) at "
          f"{phys['matmul_gflops']:.1f} GFLOP/s (fp32 matrix multiply, one thread) = "
          f"{phys['network_s_per_step'] * 1e3:.3f} ms: {phys['fps_per_core']:,.0f} frames/s per core, "
          f"**{phys['fps']:,.0f}** on {cores} cores\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32],
                        help="environments per learner (K) to evaluate")
    parser.add_argument("--steps", type=int, default=10_000, help="agent steps to time the pipeline on")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--train-seconds", type=float, default=60.0,
                        help="then train the default asyncrl command this long, for the fraction of the limits "
                             "it reaches (0: skip)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    repeat = frames_per_step(EnvConfig(env_id=args.env))
    t_max = PAPER_T_MAX
    job = (args.env, args.batches, args.steps, args.repeats)
    alone = limits([measure(*job)], args.cores, repeat, t_max)
    with mp.get_context("spawn").Pool(args.cores) as pool:
        busy = limits(pool.starmap(measure, [job] * args.cores), args.cores, repeat, t_max)

    training = None
    if args.train_seconds > 0:  # the default command: its own learners and environments per learner
        training = measure_training(args.env, "a3c", None, args.train_seconds, [])

    print(f"{args.env} on {machine()}; one thread per learner, t_max {t_max}\n")
    report("One process, the other cores idle", alone, args.cores)
    report(f"One process per core, all {args.cores} at once (the limit)", busy, args.cores)
    if training is not None and training["steady_fps"]:
        fps = training["steady_fps"]
        print(f"training (`asyncrl train --env {args.env}`, defaults, {args.train_seconds:g} s): {fps:,.0f} frames/s "
              f"= {fps / busy['physical']['fps']:.0%} of the physical limit, {fps / busy['limit_fps']:.0%} of (c)")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "env": args.env, "cores": args.cores,
                                         "alone": alone, "all_cores": busy, "limit_fps": busy["limit_fps"],
                                         "physical_limit_fps": busy["physical"]["fps"], "training": training},
                                        indent=2))


if __name__ == "__main__":
    main()
