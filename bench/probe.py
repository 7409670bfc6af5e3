"""Look inside an Atari network: does its torso see the game, and do its advantages carry a signal?

(1) Units: play ``--steps`` agent steps with the network's own policy (a Q network: epsilon-greedy
    with evaluation's epsilon, 0.05) and report, per layer of the conv torso (and the LSTM's
    output, for A3C LSTM), the share of units (channels) that never fire, the share of activations
    that are positive, the mean activation and its spread across states (the std over states,
    averaged over units); for A3C LSTM, each gate's pre-activations over those states (mean, size,
    and the mean derivative of its sigmoid or tanh: near 0 when saturated, so that no gradient
    passes) and the size and spread of the LSTM's input W_ih x; then the spread of the value over
    those states and the policy's entropy,
    or for a Q network each action's Q(s, a) (mean, std over states) and how often each action is
    the greedy one. A torso whose units have died, or whose features have grown into one constant,
    gives the same value to every state (std ~0): nothing can learn.
(2) With ``--signal``: play ``--envs`` environments for ``--signal-steps`` steps, compute
    advantages with n-step returns bootstrapped from the value (n = ``--returns``), and compare
    the policy head's gradient on two disjoint halves of the environments (cosine: near 0 is noise,
    towards 1 a direction both halves agree on), and the mean of (onehot(a) - pi) * A per action
    against the entropy bonus's pull back to uniform, beta / |A| per unit of logit.

    python bench/probe.py runs/pong                  # the run's latest checkpoint
    python bench/probe.py runs/pong/checkpoint.pt --signal --signal-steps 1200
    python bench/probe.py runs/pong-lstm --steps 1200   # A3C LSTM: the unit probe only
    python bench/probe.py runs/pong-nstepq              # a Q method: the unit probe only
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from asyncrl.agent import Agent
from asyncrl.config import TrainConfig, is_atari
from asyncrl.envs import build_env
from asyncrl.run import RunDirectory


def load(path: Path) -> Agent:
    if path.is_dir():
        state = RunDirectory(path).load_checkpoint()
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    agent = Agent(TrainConfig.from_dict(state["config"]), state)
    if not is_atari(agent.config.env.env_id):
        raise ValueError("this probe reads networks trained on Atari")
    return agent


def lstm_gates(lstm: torch.nn.LSTM, x: torch.Tensor, lengths: list[int]) -> tuple[torch.Tensor, ...]:
    """Step a one-layer ``nn.LSTM`` through sequences laid end to end (``lengths``), each from
    zeros: its gates' pre-activations (steps, 4 x cells, PyTorch's order i, f, g, o), their input
    part W_ih x + b_ih, and the outputs h (which equal the LSTM's own)."""
    cells = lstm.hidden_size
    pres, inputs, outs = [], [], []
    start = 0
    for length in lengths:
        h, c = x.new_zeros(1, cells), x.new_zeros(1, cells)
        for t in range(start, start + length):
            from_input = x[t:t + 1] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0
            pre = from_input + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
            i, f, g, o = pre.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            pres.append(pre)
            inputs.append(from_input)
            outs.append(h)
        start += length
    return torch.cat(pres), torch.cat(inputs), torch.cat(outs)


def print_gates(pre: torch.Tensor, from_input: torch.Tensor) -> None:
    parts = []
    for name, z in zip(("input i", "forget f", "cell g", "output o"), pre.chunk(4, 1), strict=True):
        if name == "cell g":
            slope = f"tanh' {(1 - torch.tanh(z) ** 2).mean():.3f} (at most 1)"
        else:
            slope = f"sigmoid' {(torch.sigmoid(z) * (1 - torch.sigmoid(z))).mean():.3f} (at most 0.25)"
        parts.append(f"{name} mean {z.mean():+.2f}, size {z.abs().mean():.2f}, {slope}")
    print("  gates: pre-activations " + "; ".join(parts))
    print(f"  lstm input W_ih x: size {from_input.abs().mean():.3f}, spread across states "
          f"{from_input.std(0).mean():.4f}")


def units(agent: Agent, steps: int, seed: int) -> None:
    net, env = agent.net, agent.make_env()
    obs, _ = env.reset(seed=seed)
    agent.reset()
    frames, episodes = [], [0]  # episodes: where each episode's frames start
    for _ in range(steps):
        frames.append(obs)
        obs, _, term, trunc, _ = env.step(agent.act(obs))
        if term or trunc:
            obs, _ = env.reset()
            agent.reset()
            episodes.append(len(frames))
    env.close()
    x = torch.as_tensor(np.array(frames))
    torso = net.torso
    with torch.no_grad():
        h1 = F.relu(torso.conv1(x.float() / 255.0))
        h2 = F.relu(torso.conv2(h1))
        h3 = F.relu(torso.fc(h2.flatten(1)))
        layers = [("conv1", h1), ("conv2", h2), ("fc", h3)]
        if net.recurrent:  # each episode replayed from zeros, as the learners act
            lengths = [b - a for a, b in zip(episodes, [*episodes[1:], len(frames)], strict=True) if b > a]
            zeros = net.zero_state(len(lengths))
            layers.append(("lstm", net.core(h3, zeros[0], lengths)[0]))
            gates = lstm_gates(net.core.lstm, h3, lengths)[:2]
            net.state = zeros
        out = net(x, lengths) if net.recurrent else net(x)
    print(f"{agent.config.env.env_id}, checkpoint at {agent.checkpoint_frames:,} frames, {steps} steps of its play "
          f"({agent.policy})")
    for name, h in layers:
        spread = f"mean {h.mean().item():.4f}, spread across states {h.std(0).mean().item():.4f}"  # per unit
        if name == "lstm":  # h = o * tanh(c): no ReLU, nothing that "fires"
            print(f"  {name:5s}: {spread}")
            print_gates(*gates)
            continue
        per_unit = h.transpose(0, 1).flatten(1) if h.dim() == 4 else h.T
        dead = (per_unit.max(1).values <= 0).float().mean().item()
        print(f"  {name:5s}: {dead:6.1%} of units never fire; {(h > 0).float().mean().item():.3f} of activations "
              f"positive; {spread}")
    if agent.algo.head == "q":
        q = out
        greedy = np.bincount(q.argmax(-1).numpy(), minlength=q.shape[-1]) / len(q)
        print(f"  Q(s, a) per action: means {[round(float(v), 3) for v in q.mean(0)]}, "
              f"std over states {[round(float(v), 4) for v in q.std(0)]}")
        print(f"  greedy action: share of states {[round(float(v), 3) for v in greedy]}")
        return
    logits, values = out
    p = torch.softmax(logits, -1)
    print(f"  value: mean {values.mean():.3f}, std over states {values.std():.3f} "
          f"(min {values.min():.3f}, max {values.max():.3f})")
    print(f"  policy: entropy {-(p * p.log()).sum(-1).mean():.3f} (uniform {np.log(p.shape[-1]):.3f}), "
          f"mean probabilities {[round(float(v), 3) for v in p.mean(0)]}")


def signal(agent: Agent, n_envs: int, steps: int, horizons: list[int], seed: int) -> None:
    net, config = agent.net, agent.config
    envs = [build_env(config.env, training=True) for _ in range(n_envs)]
    obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(envs)])
    states, actions, rewards, dones = [], [], [], []
    for _ in range(steps):
        with torch.no_grad():
            logits, _ = net(torch.as_tensor(obs))
        a = torch.distributions.Categorical(logits=logits).sample().numpy()
        states.append(obs.copy())
        actions.append(a)
        step_r, step_d = [], []
        for i, env in enumerate(envs):
            o, r, term, trunc, _ = env.step(int(a[i]))
            if term or trunc:
                o, _ = env.reset()
            obs[i] = o
            step_r.append(r)
            step_d.append(term or trunc)
        rewards.append(step_r)
        dones.append(step_d)
    for env in envs:
        env.close()
    states_a, actions_a = np.array(states), np.array(actions)
    rewards_a, dones_a = np.array(rewards, dtype=np.float32), np.array(dones)
    with torch.no_grad():
        values = np.stack([net(torch.as_tensor(states_a[t]))[1].numpy() for t in range(steps)])
    usable = steps - max(horizons)
    flat_obs = torch.as_tensor(states_a[:usable].reshape(usable * n_envs, *states_a.shape[2:]))
    flat_act = torch.as_tensor(actions_a[:usable].reshape(-1))
    env_of = np.arange(usable * n_envs) % n_envs
    halves = [np.flatnonzero(env_of < n_envs // 2), np.flatnonzero(env_of >= n_envs // 2)]
    gamma, beta = config.algo.gamma, config.algo.entropy_beta
    n_actions = agent.actions.size
    print(f"policy-gradient signal: {n_envs} environments x {steps} steps, the halves' environments disjoint")
    for n in horizons:
        returns = np.zeros((usable, n_envs), dtype=np.float32)
        for t in range(usable):
            ret, alive = np.zeros(n_envs, dtype=np.float32), np.ones(n_envs, dtype=np.float32)
            for k in range(n):
                ret += alive * gamma ** k * rewards_a[t + k]
                alive *= 1.0 - dones_a[t + k]
            returns[t] = ret + alive * gamma ** n * values[t + n]
        adv = torch.as_tensor((returns - values[:usable]).reshape(-1))
        grads = []
        for half in halves:
            net.zero_grad()
            logits, _ = net(flat_obs[half])
            log_pi = torch.log_softmax(logits, -1).gather(1, flat_act[half][:, None]).squeeze(1)
            (log_pi * adv[half]).sum().backward()
            head = net.head.policy
            grads.append(torch.cat([head.weight.grad.flatten(), head.bias.grad]).clone())
        cosine = F.cosine_similarity(grads[0], grads[1], dim=0).item()
        with torch.no_grad():
            pi = torch.softmax(net(flat_obs)[0], -1)
        per_action = ((F.one_hot(flat_act, n_actions).float() - pi) * adv[:, None]).mean(0)
        print(f"  {n:3d}-step returns: advantage std {adv.std():.3f}; cosine of the halves' gradients {cosine:+.3f}; "
              f"mean (onehot - pi) * A per action {[round(float(v), 4) for v in per_action]} "
              f"against the entropy's pull {beta / n_actions:.4f} per unit of logit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a run directory or a checkpoint file")
    parser.add_argument("--steps", type=int, default=600, help="agent steps played for the unit probe")
    parser.add_argument("--signal", action="store_true", help="also measure the policy-gradient signal")
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--signal-steps", type=int, default=1200)
    parser.add_argument("--returns", type=int, nargs="+", default=[5, 20], help="n of the n-step returns")
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    if args.signal and args.signal_steps - max(args.returns) < 10:
        parser.exit(2, f"probe.py: --signal-steps must exceed the longest return ({max(args.returns)}) by 10\n")
    if not args.checkpoint.exists():
        parser.exit(2, f"probe.py: {args.checkpoint} does not exist\n")
    try:
        agent = load(args.checkpoint)
    except ValueError as exc:
        parser.exit(2, f"probe.py: {exc}\n")
    if args.signal and agent.net.recurrent:
        parser.exit(2, "probe.py: --signal reads feed-forward networks only\n")
    if args.signal and agent.algo.head != "actor_critic":
        parser.exit(2, "probe.py: --signal reads actor-critic networks only\n")
    units(agent, args.steps, args.seed)
    if args.signal:
        signal(agent, args.envs, args.signal_steps, args.returns, args.seed)


if __name__ == "__main__":
    main()
