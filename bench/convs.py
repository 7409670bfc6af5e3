"""The Atari network at the learners' batch sizes, run several ways: which is fastest on this CPU?

A learner with K environments runs the network forward at batch K to act and forward + backward at
batch (t_max + 1) K to learn, with one intra-op thread. At those small batches the network reached
about half the fp32 rate of a large matrix multiply (`bench/limits.py`, issue 17), so this script
measures what PyTorch offers for small convolutions on a CPU, each in its own process:

    default        what asyncrl runs: the frames made NHWC (channels_last) in the torso, the weights
                   contiguous as they are shared, oneDNN convolutions
    nchw           the frames left NCHW (contiguous), as asyncrl ran before issue 17's change
    channels_last  the weights made NHWC too
    no-mkldnn      torch.backends.mkldnn disabled: PyTorch's own convolution kernels
    compile        torch.compile (Inductor, generated C++), forward and backward

Each variant first checks that it computes what the default does (outputs and gradients of one
batch, largest difference reported), then times the acting forward pass (no graph) and the
learning forward + backward, median over ``--repeats``, in one process alone and in one process
per core at once (as training runs). Rounds interleave the variants so host drift hits all alike.

    python bench/convs.py
    python bench/convs.py --batches 8 16 --variants default channels_last --rounds 3 --json convs.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from limits import timed

from asyncrl.config import PAPER_T_MAX, NetConfig
from asyncrl.nets import build_network

VARIANTS = ("default", "nchw", "channels_last", "no-mkldnn", "compile")
OBS_SHAPE, ACTIONS = (4, 84, 84), 6


def loss_of(net, segment):
    policy, values = net(segment)
    return policy.logsumexp(-1).sum() + values.pow(2).sum()


def prepare(variant: str):
    """The network as ``variant`` runs it, and a function putting an observation batch in its format."""
    torch.manual_seed(0)
    net = build_network(OBS_SHAPE, ACTIONS, "actor_critic", NetConfig())
    fmt = lambda obs: obs
    if variant == "channels_last":
        net = net.to(memory_format=torch.channels_last)
        fmt = lambda obs: obs.contiguous(memory_format=torch.channels_last)
    elif variant == "nchw":
        torso = net.torso

        def nchw_forward(obs):
            x = F.relu(torso.conv1(obs.float().div_(255.0)))
            return F.relu(torso.fc(F.relu(torso.conv2(x)).flatten(1)))

        torso.forward = nchw_forward
    elif variant == "no-mkldnn":
        torch.backends.mkldnn.enabled = False
    elif variant == "compile":
        net = torch.compile(net, dynamic=False)
    return net, fmt


def check(variant: str, k: int, t_max: int) -> float:
    """Largest absolute difference from the default network in outputs and gradients, one batch."""
    generator = torch.Generator().manual_seed(1)
    segment = torch.randint(0, 256, ((t_max + 1) * k, *OBS_SHAPE), dtype=torch.uint8, generator=generator)
    grads = {}
    for name in ("default", variant):
        net, fmt = prepare(name)
        net.zero_grad()
        loss = loss_of(net, fmt(segment))
        loss.backward()
        grads[name] = [loss.detach()] + [p.grad.clone() for p in net.parameters()]
        torch.backends.mkldnn.enabled = True
    return max((a - b).abs().max().item() for a, b in zip(grads["default"], grads[variant], strict=True))


def measure(variant: str, batches: list[int], t_max: int, repeats: int) -> dict:
    """Seconds of the acting forward and the learning forward + backward, one intra-op thread."""
    torch.set_num_threads(1)
    net, fmt = prepare(variant)
    rows = []
    for k in batches:
        acting = fmt(torch.randint(0, 256, (k, *OBS_SHAPE), dtype=torch.uint8))
        segment = fmt(torch.randint(0, 256, ((t_max + 1) * k, *OBS_SHAPE), dtype=torch.uint8))

        def forward(acting=acting):
            with torch.no_grad():
                net(acting)

        def forward_backward(segment=segment):
            net.zero_grad(set_to_none=False)
            loss_of(net, segment).backward()

        forward_s, learn_s = timed(forward, repeats), timed(forward_backward, repeats)
        rows.append({"envs_per_learner": k, "forward_s": forward_s, "forward_backward_s": learn_s,
                     # one acting pass per agent step and a learning pass per t_max of them, per environment
                     "network_s_per_step": forward_s / k + learn_s / (t_max * k)})
    return {"variant": variant, "rows": rows}


def on_all_cores(variant: str, batches: list[int], t_max: int, repeats: int, cores: int) -> dict:
    """One process per core at once (one: alone); each row is the median over the processes."""
    with mp.get_context("spawn").Pool(cores) as pool:
        results = pool.starmap(measure, [(variant, batches, t_max, repeats)] * cores)
    return {"variant": variant, "rows": median_rows(results)}


def median_rows(results: list[dict]) -> list[dict]:
    """Each time's median over several measurements (processes or rounds) of the same rows."""
    rows = []
    for i, first in enumerate(results[0]["rows"]):
        rows.append({key: statistics.median(r["rows"][i][key] for r in results) if key != "envs_per_learner"
                     else first[key] for key in first})
    return rows


def report(title: str, table: dict[str, list[dict]], differences: dict[str, float]) -> None:
    print(f"### {title}\n")
    print("| variant | K | forward, batch K (ms) | forward+backward, batch (t_max+1)K (ms) "
          "| network per agent step (ms) | against default | largest difference from default |")
    print("|---|---|---|---|---|---|---|")
    for variant, rows in table.items():
        for row, base in zip(rows, table["default"], strict=True):
            print(f"| {variant} | {row['envs_per_learner']} | {row['forward_s'] * 1e3:.3f} "
                  f"| {row['forward_backward_s'] * 1e3:.3f} | {row['network_s_per_step'] * 1e3:.3f} "
                  f"| {base['network_s_per_step'] / row['network_s_per_step']:.2f}x | {differences[variant]:.1e} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 16], help="environments per learner (K)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per pass, median reported")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds over the variants")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    variants = ["default"] + [v for v in args.variants if v != "default"]
    t_max = PAPER_T_MAX

    differences = {v: check(v, min(args.batches), t_max) for v in variants}
    alone = {v: [] for v in variants}
    busy = {v: [] for v in variants}
    for _ in range(args.rounds):
        for v in variants:
            alone[v].append(on_all_cores(v, args.batches, t_max, args.repeats, 1))
            busy[v].append(on_all_cores(v, args.batches, t_max, args.repeats, args.cores))
    alone_rows = {v: median_rows(r) for v, r in alone.items()}
    busy_rows = {v: median_rows(r) for v, r in busy.items()}

    print(f"Atari network (conv 16x8x8/4, conv 32x4x4/2, FC 256, policy and value) on {machine()}; "
          f"torch {torch.__version__}, one thread per process, t_max {t_max}, median of {args.rounds} rounds "
          f"x {args.repeats} calls\n")
    report("One process, the other cores idle", alone_rows, differences)
    report(f"One process per core, all {args.cores} at once (as training runs)", busy_rows, differences)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "torch": torch.__version__, "t_max": t_max,
                                         "differences": differences, "alone": alone_rows, "all_cores": busy_rows},
                                        indent=2))


if __name__ == "__main__":
    main()
