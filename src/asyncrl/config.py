"""Typed configuration: one dataclass per concern, each field one hyper-parameter.

Every field carries its help text in ``metadata["help"]``; the CLI builds one flag per field from
it, so a hyper-parameter is defined in exactly one place. Fields whose sensible default depends on
the environment family (Atari or not) default to ``None`` here and are filled in by
:func:`resolve`; ``config.json`` in a run directory always holds the resolved values.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import re
import typing
from argparse import ArgumentTypeError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncrl.envs import ActionSpec

ALGORITHMS = ("a3c", "one-step-q", "one-step-sarsa", "n-step-q")
BACKENDS = ("local", "ray")

# Atari defaults that differ from the small-task ones (see resolve()).
ATARI_WORKERS = 16  # the paper's 16 actor-learner threads
# The methods with their own Atari defaults (ATARI_OURS) are laid out for the machine: one learner
# per core (a learner per core is fastest, docs/BENCHMARKS.md), at most the paper's 16, each stepping
# enough environments that at least ATARI_ACTORS act in all (each environment is one of the
# paper's actors).
ATARI_MAX_LEARNERS = 16
ATARI_ACTORS = 16
ATARI_FRAMES = 80_000_000  # PFRL's A3C reproduction protocol: 80M emulator frames
CLASSIC_FRAMES = 1_000_000
ATARI_EPSILON_FRAMES = 4_000_000  # the paper's annealing period
# Small tasks are learnt within a few hundred thousand steps; annealing over the first 200,000
# keeps the data varied long enough that the Q methods stop collapsing (docs/algorithms/q.md).
CLASSIC_EPSILON_FRAMES = 200_000
ATARI_TARGET_UPDATE = 40_000  # the paper's I_target
# Each copy lets values propagate one more bootstrap step: 40,000 is far too slow for a budget of a
# few hundred thousand steps (docs/algorithms/q.md has the CartPole runs).
CLASSIC_TARGET_UPDATE = 2_000
ATARI_LR = 7e-4  # the authors' reported default (PFRL's too)
# Normalised RMSProp steps (A2C's epsilon), started small as TensorFlow's RMSProp does; chosen for
# A3C FF by the 15-minute Pong runs in docs/BENCHMARKS.md (issue 15), not the paper's.
ATARI_A3C_RMS_EPS = 1e-5
ATARI_A3C_RMS_INIT = 1.0
# A3C on Atari anneals lr over A2C's 40M frames (OpenAI baselines, 10M agent steps): an hour here
# holds 14-28M frames, so the rate is still 30-65 % of its start when the hour ends, where the
# paper's 80M would leave it almost untouched (issue 15; docs/BENCHMARKS.md).
ATARI_A3C_FRAMES = 40_000_000
# A3C LSTM with normalised steps: at 7e-4 they kill most of the torso's units and leave the rest
# one large constant, so the LSTM's output is the same for every state (explained variance 0 for
# 15 minutes of Pong); at 1e-4 the value explains 71 % of the returns' variance within 4 minutes
# (issue 16, docs/BENCHMARKS.md).
ATARI_LSTM_LR = 1e-4
# ... and held there: annealed over 40M frames it was 0.37e-4 when the hour ended and Breakout, still
# doubling every 10-20 minutes, evaluated at 74 (two seeds); held, at 171 and 136, and Pong's two
# hours reached +10 a little sooner (44 and 41 minutes; annealed 44 and 54) and evaluated at 19.5 and
# 15.5 (issue 16, docs/BENCHMARKS.md). With nothing to anneal over, its budget is the paper's 80M.
ATARI_LSTM_LR_ANNEAL = False
# One-step Q and Sarsa with A3C FF's layout and RMSProp: at 7e-4 one-step Q's greedy policy played
# SpaceInvaders no better than random after 15 minutes (157), at 2e-3 it scored 372; Sarsa, which
# differs only in its target, takes the same (issue 16, docs/BENCHMARKS.md).
ATARI_ONE_STEP_LR = 2e-3
# ... and anneal it to 0 over 11.5M frames, the frames their default hour made on a half-speed day,
# not the paper's 80M: over 80M the rate was still 86 % of its start when the hour ended and one-step
# Q's SpaceInvaders games fell back in its last third (180 after the hour); annealed within the run,
# two seeds evaluated at 325 and 269 and neither fell back (issue 16, docs/BENCHMARKS.md).
ATARI_ONE_STEP_FRAMES = 11_500_000
# n-step Q's Q output starts at gain 0.01 (orthogonal): at gain 1, 5 of 16 starting networks on Pong
# lost every unit of their torso within 300k frames, the same 5 again when run a second time; from
# the same torsos with the small output 1 of the 16 did. On Pong's near-constant frames a fresh
# torso's features are weak for some draws, and the first regressions towards Pong's negative
# returns, passed back through an output of gain 1, silence them before the ball is seen
# (issue 16, docs/BENCHMARKS.md).
ATARI_N_STEP_Q_INIT_GAIN = 0.01


@dataclass(frozen=True)
class AtariDefaults:
    """A method's own defaults on Atari, found on this machine where the paper's did not learn
    within an hour; every other setting is the paper's."""

    label: str
    lr: float = ATARI_LR
    frames: int = ATARI_FRAMES
    q_init_gain: float = 1.0
    lr_anneal: bool = True


# (algo, core) -> asyncrl's Atari defaults for it, each with the runs that chose it in
# docs/BENCHMARKS.md: a learner per core stepping ATARI_ACTORS environments in all, normalised
# RMSProp steps that start small, and the lr and its horizon here. A method not listed keeps the
# paper's layout and RMSProp (16 learners of one environment, epsilon 0.1).
ATARI_OURS = {
    ("a3c", "ff"): AtariDefaults("A3C FF", frames=ATARI_A3C_FRAMES),
    ("a3c", "lstm"): AtariDefaults("A3C LSTM", lr=ATARI_LSTM_LR, lr_anneal=ATARI_LSTM_LR_ANNEAL),
    ("n-step-q", "ff"): AtariDefaults("n-step Q", q_init_gain=ATARI_N_STEP_Q_INIT_GAIN),
    ("one-step-q", "ff"): AtariDefaults("one-step Q", lr=ATARI_ONE_STEP_LR, frames=ATARI_ONE_STEP_FRAMES),
    ("one-step-sarsa", "ff"): AtariDefaults("one-step Sarsa", lr=ATARI_ONE_STEP_LR, frames=ATARI_ONE_STEP_FRAMES),
}
_OURS = ", ".join(d.label for d in ATARI_OURS.values())  # for the flags' help
PAPER_RMS_EPS = 0.1  # the authors' setting, reported to reimplementers (PFRL's too)
PAPER_T_MAX = 5
CLASSIC_LR = 3e-3  # A3C, tuned on CartPole-v1 with the MLP torso (docs/algorithms/a3c.md)
CLASSIC_Q_LR = 1e-3  # the Q methods, tuned on CartPole-v1 (docs/algorithms/q.md)
# A3C with continuous actions (issue 18). The paper's Gaussian (a variance per state through a
# softplus, one layer of 200 ReLU units, entropy 1e-4, RMSProp epsilon 0.1) did not learn HalfCheetah
# in 1M steps here (-80 to -430 in the recorded runs: its means left the action bounds, its variance
# on the floor). Stable-Baselines3 A2C's MuJoCo setting (RL Zoo) did, in asyncrl's learners:
# a state-independent log-std, observations and rewards normalised by running statistics, two tanh
# layers of 64 initialised orthogonally, lr 7e-4, normalised RMSProp steps that start small (A3C FF's
# on Atari) and no entropy bonus (docs/BENCHMARKS.md, "Continuous A3C"). `--preset mujoco-a3c` keeps
# the paper's. Unlike SB3 A2C the gradients are not clipped: with its clipping to norm 0.5 five
# HalfCheetah seeds settled at 1,205-1,369 (1,292 on average) and Hopper's two at 90 and 750;
# without it the same seeds reached 2,182 on average (962 to 3,837) and Hopper 1,022 and 1,034.
# Nor are its lr and starting log-std kept: at log-std 0 (sigma 1) the untrained policy flips
# HalfCheetah onto its back in 9 of 10 random episodes and three seeds of five learnt to run on it;
# from log-std -1 (sigma 0.37) the cheetah stays upright and finds a fast gait within 100k steps,
# but at lr 7e-4 two seeds of five lost it again within the next 100k; at 3.5e-4 they kept it (the
# five seeds averaged 3,825 against 2,182 at sigma 1 and 7e-4). At t_max 20 it is still the best
# measured: 7e-4 and 1.4e-3 averaged 1,753 and 506 on Hopper (1,782), 4,224 and 1,580 on HalfCheetah
# (5,322), their policies widening and losing the gaits they had found.
CONTINUOUS_LR = 3.5e-4
# Segments of 20 steps, not the paper's 5: at 5 three Hopper seeds of five stood still (996) and
# HalfCheetah's policies narrowed within 400k steps onto whatever gait came first; at 20 the
# advantages carry 20 steps of real rewards, sigma holds, and over five seeds Hopper evaluated at
# 1,782 (942 at 5) and HalfCheetah at 5,322 (3,825), all upright; 10 and 40 learnt less on both.
# Pendulum learns less with it: 4x fewer updates move the network 4x less per step, and Pendulum
# needs that movement (lr 1.4e-3: six seeds of ten past -200; or 4M steps at the default lr, four
# of five), which the locomotion tasks cannot take (docs/BENCHMARKS.md: "The learning rate at
# t_max 20").
# One lr per part does not help: the movement Pendulum lacks is the policy's (mean and sigma
# together; its critic at 4x learnt no more), and the policy at 4x loses HalfCheetah's gaits.
CONTINUOUS_T_MAX = 20
CONTINUOUS_LOG_STD_INIT = -1.0
CONTINUOUS_ENTROPY_BETA = 0.0
# NetConfig's action-dependent fields: asyncrl's for continuous actions, the paper's MLP otherwise.
CONTINUOUS_NET = {"hidden": (64, 64), "activation": "tanh", "policy_std": "log-std", "obs_norm": True,
                  "reward_norm": True}
CLASSIC_NET = {"hidden": (200,), "activation": "relu", "policy_std": "softplus", "obs_norm": False,
               "reward_norm": False}
ATARI_MAX_GRAD_NORM = 40.0
ATARI_LSTM_CELLS = 256
CLASSIC_LSTM_CELLS = 128
ENTROPY_BETA = 0.01  # the paper's, for softmax policies
GAUSSIAN_ENTROPY_BETA = 1e-4  # the paper's, for its continuous-control Gaussian policies (mujoco-a3c)
CORES = ("ff", "lstm")
ACTIVATIONS = ("relu", "tanh")
POLICY_STDS = ("softplus", "log-std")
INITS = ("orthogonal", "uniform")


# A learner is hung when it makes no progress for HANG_FACTOR times its usual time between updates,
# and never sooner than HANG_MIN_SECONDS: long enough for a slow environment reset or a machine
# busy with other work, where a stuck learner (a deadlocked environment, a simulator waiting on a
# socket) would otherwise hold its share of the run forever. Starting (importing PyTorch, making
# the environments; many learners at once on few cores) gets HANG_STARTUP_SECONDS.
HANG_FACTOR = 100
HANG_MIN_SECONDS = 60.0
HANG_STARTUP_SECONDS = 300.0
MAX_SEED = 2**32 - 1  # the learners' and environments' seeds are drawn from it as 32-bit words
NAME_MAX = 255  # bytes in one file name on Linux's file systems (os.pathconf's PC_NAME_MAX)


class ConfigError(ValueError):
    """A configuration value a person has to fix; the message names the value and what is valid.

    ``key`` is the (group, field) it is about, if one, and ``detail`` the message without the flag
    ("must be a positive number, got -5"), so that the CLI can name the file a value came from.
    """

    def __init__(self, message: str, key: tuple[str, str] | None = None, detail: str | None = None):
        super().__init__(message)
        self.key = key
        self.detail = detail


_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}


def parse_count(text: str) -> int:
    """Integers as people write them: 80000000, 80_000_000, 8e7, 80M, 500k."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    match = re.fullmatch(r"([0-9.e+-]+)([kmgb]?)", t)
    try:
        if not match:
            raise ValueError
        value = float(match.group(1)) * _SUFFIXES.get(match.group(2), 1)
        if value != int(value):
            raise ValueError
        return int(value)
    except (ValueError, OverflowError):
        raise ArgumentTypeError(f"invalid count {text!r} (examples: 80000000, 80M, 5e5)") from None


def parse_widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(w) for w in text.split(","))
    except ValueError:
        raise ArgumentTypeError(f"invalid widths {text!r} (examples: 200, 64,64)") from None


def flag_of(f: dataclasses.Field) -> str:
    """The command-line flag of a config field: the one its metadata names, or --field-name."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def flag_for(group: str, name: str) -> str:
    """:func:`flag_of` the field ``name`` of the config group ``group`` (``"optim"``, ...)."""
    (f,) = (f for f in dataclasses.fields(getattr(TrainConfig(), group)) if f.name == name)
    return flag_of(f)


def _help(text: str, flag: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"help": text, **extra}
    if flag:
        meta["flag"] = flag
    return meta


@dataclass
class EnvConfig:
    """The environment and, for Atari, the paper's preprocessing pipeline (Mnih et al. 2015)."""

    env_id: str = field(
        default="", metadata=_help("Gymnasium environment id, e.g. ALE/Pong-v5 or CartPole-v1", "--env")
    )
    frameskip: int = field(
        default=1, metadata=_help("Atari: frames the emulator itself skips per step (paper: 1)")
    )
    action_repeat: int = field(
        default=4,
        metadata=_help("Atari: agent steps repeat the action this many frames, max-pooling the last two"),
    )
    repeat_action_probability: float = field(
        default=0.0,
        metadata=_help("Atari: sticky-action probability (paper: 0.0; Machado et al. 2018: 0.25)"),
    )
    noop_max: int = field(default=30, metadata=_help("Atari: up to this many random no-ops at reset"))
    frame_stack: int = field(default=4, metadata=_help("Atari: processed frames stacked per observation"))
    screen_size: int = field(default=84, metadata=_help("Atari: side of the square grayscale frame"))
    clip_rewards: bool = field(
        default=True, metadata=_help("Atari: clip training rewards to [-1, 1] (scores stay raw)")
    )
    terminal_on_life_loss: bool = field(
        default=True,
        metadata=_help("Atari: a lost life ends the learning episode (the paper's and Nature DQN's; "
                       "A2C's and PPO's references do it too); the game goes on"),
    )
    vector_env: bool = field(
        default=True,
        metadata=_help("Atari training: step a learner's environments in ALE's C++ vector environment "
                       "(the same preprocessing, about 10 percent more frames/s; the presets: off, "
                       "Gymnasium's pipeline)"),
    )


@dataclass
class NetConfig:
    """Network shape: the conv torso is fixed by the paper; the MLP torso is for vector observations."""

    hidden: tuple[int, ...] | None = field(
        default=None,
        metadata=_help(
            "MLP torso widths for vector observations, comma-separated (default: 200, the paper's; "
            "64,64 for continuous actions, SB3 A2C's for MuJoCo)"
        ),
    )
    core: str = field(
        default="ff",
        metadata={
            **_help("ff (feed-forward) or lstm: an LSTM after the torso, A3C only (the paper's A3C LSTM)"),
            "flag": "--net",
        },
    )
    lstm_cells: int | None = field(
        default=None,
        metadata=_help(
            f"LSTM cells with --net lstm (default: {ATARI_LSTM_CELLS} on Atari, as in the paper; "
            f"{CLASSIC_LSTM_CELLS} otherwise, the paper's size for low-dimensional inputs)"
        ),
    )
    activation: str | None = field(
        default=None,
        metadata=_help(
            "MLP torso's nonlinearity: relu (the paper's) or tanh (A2C's and PPO's for MuJoCo) "
            "(default: relu; tanh for continuous actions)"
        ),
    )
    policy_std: str | None = field(
        default=None,
        metadata=_help(
            "continuous actions: the Gaussian's spread, softplus (the paper's: a variance per state, "
            "softplus of a linear layer) or log-std (one learned log standard deviation per action "
            "dimension for every state, starting at --log-std-init, as SB3 and most current libraries) "
            "(default: log-std; the paper's learnt no locomotion in 1M steps here, docs/BENCHMARKS.md)"
        ),
    )
    log_std_init: float = field(
        default=CONTINUOUS_LOG_STD_INIT,
        metadata=_help(
            f"--policy-std log-std: the log standard deviation it starts at (default: {CONTINUOUS_LOG_STD_INIT:g}, "
            f"sigma {math.exp(CONTINUOUS_LOG_STD_INIT):.2f}; "
            "SB3's 0 flips HalfCheetah onto its back in 9 of 10 random episodes, docs/BENCHMARKS.md)"
        ),
    )
    min_var: float = field(
        default=1e-2,
        metadata=_help(
            "continuous actions: floor added to the Gaussian's variance; it bounds the "
            "score (a - mu) / var and keeps the policy exploring (docs/algorithms/a3c.md)"
        ),
    )
    obs_norm: bool | None = field(
        default=None,
        metadata=_help(
            "standardise vector observations by running mean and variance, shared by all learners "
            "and saved with the network (default: on for continuous actions, off otherwise)"
        ),
    )
    reward_norm: bool | None = field(
        default=None,
        metadata=_help(
            "scale training rewards by the running standard deviation of the discounted return "
            "(VecNormalize's norm_reward), shared by all learners and saved with the network; "
            "scores stay raw (default: on for continuous actions, off otherwise)"
        ),
    )
    shared_torso: bool | None = field(
        default=None,
        metadata=_help(
            "policy and value share the torso (default: yes on Atari, as in the paper; separate "
            "networks for vector observations, as the paper does for low-dimensional inputs)"
        ),
    )
    init: str | None = field(
        default=None,
        metadata=_help(
            "initial weights: orthogonal (gain sqrt 2 for the ReLU layers, 1 for the value and Q "
            "outputs, zero biases) or uniform (U(+-1/sqrt(fan_in)), PyTorch's and Torch7's default, "
            "the paper's era; the --preset atari-* presets) (default: orthogonal on Atari, where "
            "the uniform init leaves the features almost blind to the ball and paddles "
            "(docs/algorithms/a3c.md), and for continuous actions, as SB3 A2C; uniform otherwise)"
        ),
    )
    q_init_gain: float | None = field(
        default=None,
        metadata=_help(
            "Q methods with --init orthogonal: the gain of the Q output's orthogonal init; 0.01 starts "
            "every action value near 0, as the policy output starts near uniform (default: 0.01 for "
            "n-step Q on Atari, where at 1 a third of the starting networks lost their torso on Pong; "
            "1 otherwise, as the value output's)"
        ),
    )


@dataclass
class AlgoConfig:
    """The learning algorithm and its hyper-parameters (paper notes, section 'The four methods')."""

    algo: str = field(default="a3c", metadata=_help("algorithm: " + ", ".join(ALGORITHMS)))
    t_max: int | None = field(
        default=None,
        metadata=_help(
            f"A3C and n-step Q: steps per segment before an update (default: the paper's {PAPER_T_MAX}; "
            f"{CONTINUOUS_T_MAX} for A3C with continuous actions)"
        ),
    )
    async_update: int = field(
        default=5,
        metadata=_help("one-step Q and Sarsa: steps whose gradients are accumulated before an update"),
    )
    target_update: int | None = field(
        default=None,
        metadata=_help(
            "Q methods: global frames between copies of theta into the target network (default: "
            f"{ATARI_TARGET_UPDATE:,} on Atari, {CLASSIC_TARGET_UPDATE:,} otherwise)"
        ),
    )
    epsilon_frames: int | None = field(
        default=None,
        metadata=_help(
            "Q methods: global frames over which each environment's epsilon anneals from 1 to its "
            f"final value (default: {ATARI_EPSILON_FRAMES:,} on Atari, {CLASSIC_EPSILON_FRAMES:,} otherwise)"
        ),
    )
    gamma: float = field(default=0.99, metadata=_help("discount factor"))
    entropy_beta: float | None = field(
        default=None,
        metadata=_help(
            f"A3C: entropy regularisation weight (default: {ENTROPY_BETA:g} for discrete actions, the "
            f"paper's; {CONTINUOUS_ENTROPY_BETA:g} for continuous ones, SB3 A2C's for MuJoCo, where the "
            f"paper's is {GAUSSIAN_ENTROPY_BETA:g})"
        ),
    )
    value_loss_coef: float = field(
        default=0.5, metadata=_help("A3C: weight of the value loss (R - V)^2")
    )


@dataclass
class OptimConfig:
    """Shared RMSProp (statistics shared by all learners, epsilon inside the square root)."""

    lr: float | None = field(
        default=None,
        metadata=_help(
            f"initial learning rate (default: {ATARI_LR:g} on Atari, {ATARI_LSTM_LR:g} for A3C LSTM "
            f"and {ATARI_ONE_STEP_LR:g} for one-step Q and Sarsa there; otherwise {CLASSIC_LR:g} for "
            f"A3C, {CONTINUOUS_LR:g} for A3C with continuous actions, {CLASSIC_Q_LR:g} for the Q methods)"
        ),
    )
    lr_anneal: bool | None = field(
        default=None,
        metadata=_help(
            "anneal the learning rate linearly to 0 over --frames (default: on, the paper's; off for "
            "A3C LSTM on Atari, where Breakout was still rising when the annealed rate had fallen "
            "to a third)"
        ),
    )
    lr_warmup_frames: int = field(
        default=0,
        metadata=_help(
            "raise the learning rate linearly from 0 over the first N frames, then anneal as usual "
            "(0: no warm-up, the paper's)"
        ),
    )
    rms_alpha: float = field(default=0.99, metadata=_help("RMSProp decay of the squared-gradient average"))
    rms_eps: float | None = field(
        default=None,
        metadata=_help(
            f"RMSProp epsilon, inside the square root (default: {ATARI_A3C_RMS_EPS:g} for {_OURS} on "
            "Atari, where the paper's 0.1 makes every update plain SGD and Pong's policy did not move "
            "in 15-minute runs (docs/BENCHMARKS.md), and for A3C with continuous actions; 0.1 "
            "otherwise, the authors')"
        ),
    )
    rms_init: float | None = field(
        default=None,
        metadata=_help(
            "initial value of the shared squared-gradient average g (0: PyTorch's RMSProp, the "
            "paper's era; 1: TensorFlow's, as A2C in OpenAI Baselines). With a small --rms-eps, g = 0 "
            "makes the first updates 10x the learning rate per parameter, which can kill the "
            f"torso's units (docs/algorithms/a3c.md) (default: 1 for {_OURS} on Atari and for A3C "
            "with continuous actions, 0 otherwise)"
        ),
    )
    max_grad_norm: float | None = field(
        default=None,
        metadata=_help(
            "clip each update's gradient to this global L2 norm, 0 for no clipping (default: "
            f"{ATARI_MAX_GRAD_NORM:g} on Atari; 0 otherwise: with returns in the hundreds the "
            "clipped value function diverges, and for continuous actions SB3 A2C's 0.5 learnt "
            "HalfCheetah and Hopper less than no clipping)"
        ),
    )


@dataclass
class RunConfig:
    """Where and how long to run, and what to record."""

    workers: int | None = field(
        default=None,
        metadata=_help(
            f"actor-learner processes (default: the CPU count, at most {ATARI_MAX_LEARNERS}, for {_OURS} "
            f"on Atari; {ATARI_WORKERS} for the other methods on Atari, as in the paper; else the CPU count)"
        ),
    )
    envs_per_worker: int | None = field(
        default=None,
        metadata=_help(
            "environments each learner steps at once, its action choices batched into one forward "
            "pass; one update accumulates all their segments (with --net lstm each keeps its own "
            f"recurrent state; default: {_OURS} on Atari enough that at least {ATARI_ACTORS} act in "
            "all, otherwise 1, the paper's learner)"
        ),
    )
    torch_threads: int = field(
        default=1,
        metadata=_help("PyTorch intra-op threads per learner (default: 1; learners, not threads, fill the cores)"),
    )
    frames: int | None = field(
        default=None,
        metadata=_help(
            "training budget in environment frames; Atari counts emulator frames "
            f"(default: {ATARI_A3C_FRAMES:,} for A3C FF on Atari, {ATARI_ONE_STEP_FRAMES:,} for one-step Q "
            f"and Sarsa on Atari, {ATARI_FRAMES:,} for A3C LSTM and n-step Q on Atari and the presets, "
            f"{CLASSIC_FRAMES:,} otherwise)"
        ),
    )
    max_seconds: float | None = field(
        default=None, metadata=_help("also stop after this much wall-clock time (default: no limit)")
    )
    stop_at_return: float | None = field(
        default=None,
        metadata=_help(
            "also stop once the mean return of the last --stop-episodes episodes (of this session, "
            "when resuming) reaches this (default: train the whole budget)"
        ),
    )
    stop_episodes: int = field(
        default=20, metadata=_help("episodes averaged for --stop-at-return")
    )
    seed: int = field(default=0, metadata=_help(
        "base seed: the initial network's, and each learner derives its own from it (one learner: "
        "the same seed, the same run)"))
    run_dir: str | None = field(
        default=None, metadata=_help("run directory (default: runs/<algo>-<env>-<timestamp>)")
    )
    backend: str = field(
        default="local",
        metadata=_help("where learners run: local (processes on this machine) or ray (actors on a Ray "
                       "cluster; pip install 'asyncrl[ray]')"),
    )
    address: str | None = field(
        default=None,
        metadata=_help("--backend ray: the cluster to join, 'auto' or host:port (default: start a "
                       "Ray instance on this machine)"),
    )
    checkpoint_interval: float = field(
        default=300.0, metadata=_help("seconds between checkpoints")
    )
    hang_seconds: float | None = field(
        default=None,
        metadata=_help(
            "a learner alive but without progress for this many seconds is reported and restarted "
            f"like a dead one; 0: never (default: {HANG_FACTOR} times its usual time between updates, "
            f"at least {HANG_MIN_SECONDS:g} s; {HANG_STARTUP_SECONDS:g} s for a learner's first update)"
        ),
    )
    log_interval: float = field(
        default=10.0, metadata=_help("seconds between progress lines when stdout is not a terminal; "
                                       "under 2, also between the learners' statistics (TensorBoard)")
    )


@dataclass
class TrainConfig:
    """Everything a training run needs; ``config.json`` is this, resolved, as JSON."""

    env: EnvConfig = field(default_factory=EnvConfig)
    net: NetConfig = field(default_factory=NetConfig)
    algo: AlgoConfig = field(default_factory=AlgoConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        """Rebuild a config from ``to_dict()`` output (``source``: the file it was read from, for the
        messages); unknown keys and values of the wrong type are an error, missing ones default."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source} must hold a table of settings")
        unknown_groups = set(data) - set(GROUPS)
        if unknown_groups:
            raise ConfigError(f"{source}: unknown section {min(unknown_groups)!r}; sections are "
                              f"{', '.join(GROUPS)}")
        parts = {}
        for group in dataclasses.fields(cls):
            group_cls = group.default_factory  # type: ignore[misc]
            values = data.get(group.name, {})
            if not isinstance(values, dict):
                raise ConfigError(f"{source}: {group.name} must be a table of settings, got {values!r}")
            known = {f.name for f in dataclasses.fields(group_cls)}
            unknown = set(values) - known
            if unknown:
                raise ConfigError(f"{source}: unknown {group.name} settings: {', '.join(sorted(unknown))}")
            parts[group.name] = group_cls(**{name: coerce_setting((group.name, name), value, source)
                                             for name, value in values.items()})
        return cls(**parts)


GROUPS = ("env", "net", "algo", "optim", "run")


@functools.cache
def field_types() -> dict[tuple[str, str], Any]:
    """(group, field) -> the field's type, Optional stripped (``int`` for ``int | None``); do not
    change the dict it returns (it is computed once)."""
    out = {}
    for group, cls in typing.get_type_hints(TrainConfig).items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            args = typing.get_args(kind)
            if type(None) in args:
                kind = next(a for a in args if a is not type(None))
            out[(group, f.name)] = kind
    return out


@functools.cache
def _optional_fields() -> frozenset[tuple[str, str]]:
    out = set()
    for group, cls in typing.get_type_hints(TrainConfig).items():
        hints = typing.get_type_hints(cls)
        out |= {(group, f.name) for f in dataclasses.fields(cls) if type(None) in typing.get_args(hints[f.name])}
    return frozenset(out)


def in_file(source: str, key: tuple[str, str], detail: str) -> ConfigError:
    """A bad value of a file's setting, named as the file names it: ``c.toml: [run] seed ...`` in
    TOML, ``runs/x/config.json: run.seed ...`` in JSON."""
    name = f"{key[0]}.{key[1]}" if source.endswith(".json") else f"[{key[0]}] {key[1]}"
    return ConfigError(f"{source}: {name} {detail}", key, detail)


def coerce_setting(key: tuple[str, str], value: Any, source: str) -> Any:
    """A file's value as the field's type, or ConfigError naming the file and the setting; counts
    may be written as in the CLI (\"80M\")."""
    kind = field_types()[key]
    if value is None and key in _optional_fields():
        return None
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str | float) and not isinstance(value, bool):
            with contextlib.suppress(ArgumentTypeError):  # reworded below
                return parse_count(str(value))
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    elif typing.get_origin(kind) is tuple:
        if isinstance(value, list | tuple) and value and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            return tuple(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,)
    expected = {bool: "true or false", int: "an integer (or a count such as \"80M\")", float: "a finite number",
                str: "a string"}.get(kind, "a list of integers")
    detail = f"must be {expected}, got {value!r}"
    raise in_file(source, key, detail)


def sourced(exc: ConfigError, sources: dict[tuple[str, str], str]) -> ConfigError:
    """``exc`` reworded to name the file its setting came from (``c.toml: [run] seed must be ...``),
    when ``sources`` says it came from one; else ``exc`` itself (a flag names itself)."""
    source = sources.get(exc.key) if exc.key is not None else None
    if source is None or exc.detail is None:
        return exc
    return in_file(source, exc.key, exc.detail)


# Settings that may change when a run is resumed; any other difference is a conflict.
RESUMABLE = {
    ("run", "workers"),
    ("run", "envs_per_worker"),
    ("run", "torch_threads"),
    ("run", "frames"),
    ("run", "max_seconds"),
    ("run", "stop_at_return"),
    ("run", "stop_episodes"),
    ("run", "checkpoint_interval"),
    ("run", "hang_seconds"),
    ("run", "log_interval"),
    ("run", "run_dir"),
    ("run", "backend"),
    ("run", "address"),
}


def is_atari(env_id: str) -> bool:
    """ALE ids (ALE/Pong-v5, and legacy ones such as PongNoFrameskip-v4) get the paper's pixel pipeline."""
    from asyncrl.envs import is_ale_id  # envs imports this module: import at call time

    return is_ale_id(env_id)


def frames_per_step(env: EnvConfig) -> int:
    """Environment frames one agent step consumes: emulator frames on Atari, 1 elsewhere."""
    return env.frameskip * env.action_repeat if is_atari(env.env_id) else 1


# The fields a run's config.json did not hold before they existed and whose default has changed
# since, with the value every run had then: an old run reads back as it trained, not with today's
# defaults (the continuous network's of issue 18; Gymnasium's Atari pipeline before --vector-env).
UNSAVED_BEFORE = {"net": {"activation": "relu", "policy_std": "softplus", "obs_norm": False, "reward_norm": False},
                  "env": {"vector_env": False}}


def with_unsaved_fields(saved: dict[str, Any]) -> dict[str, Any]:
    """A run's saved config (``config.json``'s groups) with the fields it predates filled in."""
    out = dict(saved)
    for group, values in UNSAVED_BEFORE.items():
        if isinstance(out.get(group), dict):
            out[group] = {**values, **out[group]}
    return out


def net_defaults(net: NetConfig, continuous: bool) -> NetConfig:
    """``net`` with its action-dependent fields that are unset (None) filled: asyncrl's defaults for
    continuous actions (``CONTINUOUS_NET``), the paper's MLP otherwise."""
    fill = CONTINUOUS_NET if continuous else CLASSIC_NET
    return dataclasses.replace(net, **{k: v for k, v in fill.items() if getattr(net, k) is None})


def default_workers(config: TrainConfig, cpus: int) -> int:
    """The default --workers given ``cpus`` (this machine's, or a Ray cluster's per learner): a
    learner per CPU, on Atari at most 16 for the methods with asyncrl's Atari defaults, the paper's
    16 for any other Atari method."""
    if not is_atari(config.env.env_id):
        return cpus
    if (config.algo.algo, config.net.core) in ATARI_OURS:
        return min(cpus, ATARI_MAX_LEARNERS)
    return ATARI_WORKERS


def resolve(config: TrainConfig, actions: ActionSpec | None = None) -> TrainConfig:
    """Fill the environment-dependent defaults and validate; returns a new config.

    The defaults that depend on the action space (``entropy_beta``, the network's shape and
    normalisation, A3C's ``lr`` and RMSProp) and the checks of what an algorithm can handle need
    ``actions``, from the environment itself (``envs.describe_spaces``); without them the defaults
    for discrete actions are filled in. A setting that has no effect on this task (``not_applying``)
    gets its default, so that config.json records what was used; a bad value is refused first.
    """
    filled = _fill(config, actions)
    unused = not_applying(filled, actions)
    if not unused:
        return filled
    defaults = TrainConfig()
    parts = {g: dataclasses.replace(getattr(config, g)) for g in GROUPS}
    for group, name in unused:
        setattr(parts[group], name, getattr(getattr(defaults, group), name))
    return _fill(TrainConfig(**parts), actions)


def not_applying(config: TrainConfig, actions: ActionSpec | None = None) -> dict[tuple[str, str], str]:
    """The settings of a resolved config that have no effect on its task, each with why not
    (those that depend on the action space only when ``actions`` is known)."""
    out: dict[tuple[str, str], str] = {}
    e, n, a, r = config.env, config.net, config.algo, config.run
    if not is_atari(e.env_id):
        for f in dataclasses.fields(EnvConfig):
            if f.name != "env_id":
                out[("env", f.name)] = f"{e.env_id} is not an Atari game (it is for ALE ids such as ALE/Pong-v5)"
    else:
        for name in ("hidden", "activation"):
            out[("net", name)] = "Atari frames go through the paper's conv torso, which has no such setting"
    if n.core != "lstm":
        out[("net", "lstm_cells")] = "it sizes the LSTM of --net lstm"
    if actions is not None and not actions.continuous:
        for name in ("policy_std", "min_var", "log_std_init"):
            out[("net", name)] = f"{e.env_id} has discrete actions (it shapes the Gaussian policy of continuous ones)"
    elif n.policy_std == "softplus":
        out[("net", "log_std_init")] = "it starts the log-std of --policy-std log-std, not the paper's softplus"
    if a.algo != "a3c":
        out[("net", "shared_torso")] = f"--algo {a.algo} has one network (it is for A3C's policy and value)"
        for name in ("entropy_beta", "value_loss_coef"):
            out[("algo", name)] = f"it weights a term of A3C's loss, not {a.algo}'s"
    else:
        for name in ("target_update", "epsilon_frames"):
            out[("algo", name)] = "A3C has no target network or epsilon (it is for the Q methods)"
    if a.algo in ("a3c", "n-step-q"):
        out[("algo", "async_update")] = f"--algo {a.algo} updates once per segment of --t-max steps"
    else:
        out[("algo", "t_max")] = f"--algo {a.algo} updates every --async-update steps"
    if r.stop_at_return is None:
        out[("run", "stop_episodes")] = "it counts the episodes of --stop-at-return"
    return out


def ineffective_settings(config: TrainConfig, actions: ActionSpec | None = None) -> list[str]:
    """One warning per setting given (not None) in ``config``, before resolution, that has no
    effect on its task, or that does not do what it says (a warm-up longer than the run)."""
    resolved = resolve(config, actions)
    lines = []
    for (group, name), why in not_applying(resolved, actions).items():
        given, used = getattr(getattr(config, group), name), getattr(getattr(resolved, group), name)
        if given is not None and given != used:
            lines.append(f"{flag_for(group, name)} {as_typed(given)} has no effect: {why}; config.json "
                         f"records {as_typed(used)}")
    o, frames = resolved.optim, resolved.run.frames
    if o.lr_warmup_frames > frames:
        lines.append(f"--lr-warmup-frames {o.lr_warmup_frames:,} is beyond --frames {frames:,}: the learning "
                     f"rate rises for the whole run and never reaches --lr {o.lr:g}")
    return lines


def as_typed(value: Any) -> str:
    """A setting's value as it is typed on the command line: widths as 64,64."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _fill(config: TrainConfig, actions: ActionSpec | None) -> TrainConfig:
    continuous = actions is not None and actions.continuous
    config = dataclasses.replace(
        config,
        env=dataclasses.replace(config.env),
        net=net_defaults(config.net, continuous),
        algo=dataclasses.replace(config.algo),
        optim=dataclasses.replace(config.optim),
        run=dataclasses.replace(config.run),
    )
    atari = is_atari(config.env.env_id)
    cores = os.cpu_count() or 1
    ours = ATARI_OURS.get((config.algo.algo, config.net.core)) if atari else None
    if ours is not None:
        # Laid out for the machine and stepped as the Pong runs chose (issues 15, 16): a learner
        # per core, batched environments, normalised RMSProp steps that start small.
        if config.run.workers is None:
            config.run.workers = default_workers(config, cores)
        if config.run.envs_per_worker is None:
            config.run.envs_per_worker = -(-ATARI_ACTORS // config.run.workers)  # ceil
        if config.optim.rms_eps is None:
            config.optim.rms_eps = ATARI_A3C_RMS_EPS
        if config.optim.rms_init is None:
            config.optim.rms_init = ATARI_A3C_RMS_INIT
        if config.run.frames is None:
            config.run.frames = ours.frames
        if config.optim.lr is None:
            config.optim.lr = ours.lr
        if config.optim.lr_anneal is None:
            config.optim.lr_anneal = ours.lr_anneal
    if continuous:
        # SB3 A2C's normalised RMSProp steps, which A3C FF takes on Atari too (see CONTINUOUS_LR).
        if config.optim.rms_eps is None:
            config.optim.rms_eps = ATARI_A3C_RMS_EPS
        if config.optim.rms_init is None:
            config.optim.rms_init = ATARI_A3C_RMS_INIT
    if config.optim.rms_eps is None:
        config.optim.rms_eps = PAPER_RMS_EPS
    if config.optim.rms_init is None:
        config.optim.rms_init = 0.0
    if config.run.workers is None:
        config.run.workers = default_workers(config, cores)
    if config.run.envs_per_worker is None:
        config.run.envs_per_worker = 1
    if config.run.frames is None:
        config.run.frames = ATARI_FRAMES if atari else CLASSIC_FRAMES
    if config.algo.epsilon_frames is None:
        config.algo.epsilon_frames = ATARI_EPSILON_FRAMES if atari else CLASSIC_EPSILON_FRAMES
    if config.algo.target_update is None:
        config.algo.target_update = ATARI_TARGET_UPDATE if atari else CLASSIC_TARGET_UPDATE
    if config.net.shared_torso is None:
        config.net.shared_torso = atari
    if config.net.init is None:
        config.net.init = "orthogonal" if atari or continuous else "uniform"
    if config.net.q_init_gain is None:
        # Only a method with its own Atari defaults says otherwise (A3C's is 1: it has no Q output).
        ours_apply = ours is not None and config.net.init == "orthogonal"
        config.net.q_init_gain = ours.q_init_gain if ours_apply else 1.0
    if config.optim.lr is None:
        if atari:
            config.optim.lr = ATARI_LR
        elif config.algo.algo != "a3c":
            config.optim.lr = CLASSIC_Q_LR
        else:
            config.optim.lr = CONTINUOUS_LR if continuous else CLASSIC_LR
    if config.optim.lr_anneal is None:
        config.optim.lr_anneal = True
    if config.algo.t_max is None:
        config.algo.t_max = CONTINUOUS_T_MAX if continuous and config.algo.algo == "a3c" else PAPER_T_MAX
    if config.optim.max_grad_norm is None:
        config.optim.max_grad_norm = ATARI_MAX_GRAD_NORM if atari else 0.0
    if config.net.lstm_cells is None:
        config.net.lstm_cells = ATARI_LSTM_CELLS if atari else CLASSIC_LSTM_CELLS
    if actions is not None:
        if config.algo.entropy_beta is None:
            config.algo.entropy_beta = CONTINUOUS_ENTROPY_BETA if actions.continuous else ENTROPY_BETA
        if actions.continuous and config.algo.algo != "a3c":
            raise ConfigError(
                f"{config.env.env_id} has continuous actions: --algo {config.algo.algo} needs a "
                "Discrete action space (use --algo a3c)"
            )
    validate(config)
    return config


def _check(ok: bool, key: tuple[str, str], value: Any, expected: str) -> None:
    if not ok:
        detail = f"must be {expected}, got {value!r}"
        raise ConfigError(f"{flag_for(*key)} {detail}", key, detail)


def validate(config: TrainConfig) -> None:
    """Raise ConfigError naming the first bad value and what would be valid."""
    e, n, a, o, r = config.env, config.net, config.algo, config.optim, config.run
    if not e.env_id:
        raise ConfigError("--env is required (a Gymnasium id such as ALE/Pong-v5 or CartPole-v1)")
    _check(a.algo in ALGORITHMS, ("algo", "algo"), a.algo, "one of " + ", ".join(ALGORITHMS))
    _check(r.backend in BACKENDS, ("run", "backend"), r.backend, "one of " + ", ".join(BACKENDS))
    if r.address is not None and r.backend != "ray":
        raise ConfigError("--address names a Ray cluster: use it with --backend ray")
    _check(e.frameskip >= 1, ("env", "frameskip"), e.frameskip, "a positive integer")
    _check(e.action_repeat >= 1, ("env", "action_repeat"), e.action_repeat, "a positive integer")
    if e.frameskip > 1 and e.action_repeat > 1 and is_atari(e.env_id):
        raise ConfigError(
            "--frameskip and --action-repeat cannot both exceed 1: let the emulator skip frames "
            "(--frameskip 4 --action-repeat 1) or the pipeline (the paper's --frameskip 1 --action-repeat 4)"
        )
    _check(0.0 <= e.repeat_action_probability <= 1.0, ("env", "repeat_action_probability"),
           e.repeat_action_probability, "in [0, 1]")
    _check(e.noop_max >= 0, ("env", "noop_max"), e.noop_max, "a non-negative integer")
    _check(e.frame_stack >= 1, ("env", "frame_stack"), e.frame_stack, "a positive integer")
    _check(e.screen_size >= 36 or not is_atari(e.env_id), ("env", "screen_size"), e.screen_size,
           "at least 36 (the conv torso needs it)")
    _check(len(n.hidden) >= 1 and all(h >= 1 for h in n.hidden), ("net", "hidden"), ",".join(map(str, n.hidden)),
           "one or more positive widths, e.g. 200 or 64,64")
    _check(a.t_max >= 1, ("algo", "t_max"), a.t_max, "a positive integer")
    _check(a.async_update >= 1, ("algo", "async_update"), a.async_update, "a positive integer")
    _check(a.target_update >= 1, ("algo", "target_update"), a.target_update, "a positive integer")
    _check(a.epsilon_frames is None or a.epsilon_frames >= 1, ("algo", "epsilon_frames"), a.epsilon_frames,
           "a positive integer")
    _check(0.0 < a.gamma <= 1.0, ("algo", "gamma"), a.gamma, "in (0, 1]")
    _check(a.entropy_beta is None or (math.isfinite(a.entropy_beta) and a.entropy_beta >= 0.0),
           ("algo", "entropy_beta"), a.entropy_beta, "a non-negative number")
    _check(n.core in CORES, ("net", "core"), n.core, "one of " + ", ".join(CORES))
    _check(n.init is None or n.init in INITS, ("net", "init"), n.init, "one of " + ", ".join(INITS))
    _check(math.isfinite(n.q_init_gain) and n.q_init_gain > 0.0, ("net", "q_init_gain"), n.q_init_gain,
           "a positive number")
    if n.q_init_gain != 1.0 and (a.algo == "a3c" or n.init != "orthogonal"):
        raise ConfigError("--q-init-gain is the Q output's gain in the orthogonal init: use it with a Q "
                          f"method ({', '.join(x for x in ALGORITHMS if x != 'a3c')}) and --init orthogonal")
    if n.obs_norm and is_atari(e.env_id):
        raise ConfigError("--obs-norm is for vector observations; Atari frames are scaled to [0, 1] already")
    if n.core == "lstm" and a.algo != "a3c":
        raise ConfigError(f"--net lstm is for --algo a3c (the paper's A3C LSTM), not {a.algo}")
    _check(n.lstm_cells is None or n.lstm_cells >= 1, ("net", "lstm_cells"), n.lstm_cells, "a positive integer")
    _check(math.isfinite(n.min_var) and n.min_var > 0.0, ("net", "min_var"), n.min_var, "a positive number")
    _check(n.activation in ACTIVATIONS, ("net", "activation"), n.activation, "one of " + ", ".join(ACTIVATIONS))
    _check(n.policy_std in POLICY_STDS, ("net", "policy_std"), n.policy_std, "one of " + ", ".join(POLICY_STDS))
    _check(math.isfinite(n.log_std_init), ("net", "log_std_init"), n.log_std_init, "a finite number")
    if n.reward_norm and is_atari(e.env_id):
        raise ConfigError("--reward-norm is for vector-observation tasks; Atari rewards are clipped to [-1, 1]")
    _check(math.isfinite(a.value_loss_coef) and a.value_loss_coef > 0.0, ("algo", "value_loss_coef"),
           a.value_loss_coef, "a positive number")
    _check(o.lr is None or (math.isfinite(o.lr) and o.lr > 0.0), ("optim", "lr"), o.lr, "a positive number")
    _check(o.lr_warmup_frames >= 0, ("optim", "lr_warmup_frames"), o.lr_warmup_frames, "a non-negative integer")
    _check(0.0 <= o.rms_alpha < 1.0, ("optim", "rms_alpha"), o.rms_alpha, "in [0, 1)")
    _check(o.rms_eps is None or (math.isfinite(o.rms_eps) and o.rms_eps > 0.0), ("optim", "rms_eps"), o.rms_eps,
           "a positive number")
    _check(o.rms_init is None or (math.isfinite(o.rms_init) and o.rms_init >= 0.0), ("optim", "rms_init"), o.rms_init,
           "a non-negative number")
    _check(o.max_grad_norm is None or (math.isfinite(o.max_grad_norm) and o.max_grad_norm >= 0.0),
           ("optim", "max_grad_norm"), o.max_grad_norm, "a non-negative number (0 turns clipping off)")
    _check(r.workers is None or r.workers >= 1, ("run", "workers"), r.workers, "a positive integer")
    _check(r.envs_per_worker is None or r.envs_per_worker >= 1, ("run", "envs_per_worker"), r.envs_per_worker,
           "a positive integer")
    _check(r.torch_threads >= 1, ("run", "torch_threads"), r.torch_threads, "a positive integer")
    _check(r.frames is None or r.frames >= 1, ("run", "frames"), r.frames, "a positive integer")
    _check(r.max_seconds is None or r.max_seconds > 0, ("run", "max_seconds"), r.max_seconds, "positive")
    _check(r.stop_at_return is None or math.isfinite(r.stop_at_return), ("run", "stop_at_return"), r.stop_at_return,
           "a finite number")
    _check(r.stop_episodes >= 1, ("run", "stop_episodes"), r.stop_episodes, "a positive integer")
    _check(r.checkpoint_interval > 0, ("run", "checkpoint_interval"), r.checkpoint_interval, "positive")
    _check(r.log_interval > 0, ("run", "log_interval"), r.log_interval, "positive")
    _check(r.hang_seconds is None or r.hang_seconds >= 0, ("run", "hang_seconds"), r.hang_seconds,
           "non-negative (0: never)")
    _check(0 <= r.seed <= MAX_SEED, ("run", "seed"), r.seed, f"an integer from 0 to {MAX_SEED} (2**32 - 1)")
    if r.run_dir is not None:
        check_path_name(r.run_dir, ("run", "run_dir"))


def check_path_name(path: str, key: tuple[str, str] | None = None, what: str = "--run-dir") -> None:
    """A directory name this machine can hold and config.json can record, or ConfigError: UTF-8
    (JSON has no other bytes) and no part longer than the file system allows."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        detail = f"must be valid UTF-8 text, got {shown!r}"
        raise ConfigError(f"{what} {detail}", key, detail) from None
    if "\0" in path or not path:
        detail = "must be a non-empty path without NUL characters"
        raise ConfigError(f"{what} {detail}", key, detail)
    longest = max((len(part.encode()) for part in path.split("/")), default=0)
    if longest > NAME_MAX:
        detail = f"has a name of {longest} bytes; this file system allows {NAME_MAX}"
        raise ConfigError(f"{what} {detail}", key, detail)


def conflicts(saved: TrainConfig, requested: TrainConfig) -> list[str]:
    """Flags whose requested value differs from the saved run's and may not change on resume."""
    out = []
    for group in GROUPS:
        old, new = getattr(saved, group), getattr(requested, group)
        for f in dataclasses.fields(old):
            if (group, f.name) in RESUMABLE:
                continue
            if getattr(old, f.name) != getattr(new, f.name):
                out.append(f"{flag_of(f)} (saved {getattr(old, f.name)!r}, requested {getattr(new, f.name)!r})")
    return out
