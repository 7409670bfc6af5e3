"""Typed configuration: one dataclass per concern, each field one hyper-parameter.

Every field carries its help text in ``metadata["help"]``; the CLI builds one flag per field from
it, so a hyper-parameter is defined in exactly one place. Fields whose sensible default depends on
the task (Atari, vector observations, continuous actions) or the method default to ``None`` here
and are filled in by :func:`resolve` from the table in :mod:`asyncrl.defaults`; ``config.json`` in a
run directory always holds the resolved values.
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

from asyncrl import defaults

if TYPE_CHECKING:
    from asyncrl.envs import ActionSpec

ALGORITHMS = ("a3c", "one-step-q", "one-step-sarsa", "n-step-q")
BACKENDS = ("local", "ray")
RAY_LAYOUTS = ("node-groups", "per-learner")
EXCHANGE_DTYPES = ("fp32", "bf16")
CORES = ("ff", "lstm")
ACTIVATIONS = ("relu", "tanh")
POLICY_STDS = ("softplus", "log-std")
INITS = ("orthogonal", "uniform")
PAPER_T_MAX = 5  # the paper's segment length, which the benches use to size their batches


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
    """The environment and, for Atari, the paper's preprocessing pipeline (Mnih et al. 2015); every
    field but ``env_id`` is for Atari only."""

    env_id: str = field(
        default="", metadata=_help("Gymnasium id, e.g. ALE/Pong-v5 or CartPole-v1", "--env")
    )
    frameskip: int = field(default=1, metadata=_help("frames the emulator skips per step"))
    action_repeat: int = field(
        default=4, metadata=_help("frames per action, the last two max-pooled")
    )
    repeat_action_probability: float = field(
        default=0.0, metadata=_help("sticky-action probability")
    )
    noop_max: int = field(default=30, metadata=_help("at most this many random no-ops at reset"))
    frame_stack: int = field(default=4, metadata=_help("frames stacked per observation"))
    screen_size: int = field(default=84, metadata=_help("side of the square grayscale frame"))
    clip_rewards: bool = field(
        default=True, metadata=_help("clip training rewards to [-1, 1]")
    )
    terminal_on_life_loss: bool = field(
        default=True, metadata=_help("a lost life ends the episode for learning")
    )
    vector_env: bool = field(
        default=True,
        metadata=_help("step a learner's environments in ALE's C++ vector environment, not "
                       "Gymnasium's wrappers"),
    )


@dataclass
class NetConfig:
    """Network shape: the conv torso is fixed by the paper; the MLP torso is for vector observations."""

    hidden: tuple[int, ...] | None = field(
        default=None, metadata=_help("MLP torso widths, comma-separated")
    )
    core: str = field(
        default="ff",
        metadata=_help("feed-forward, or an LSTM after the torso (A3C only)", "--net",
                       choices=CORES),
    )
    lstm_cells: int | None = field(default=None, metadata=_help("LSTM cells with --net lstm"))
    activation: str | None = field(
        default=None, metadata=_help("the MLP torso's nonlinearity", choices=ACTIVATIONS)
    )
    policy_std: str | None = field(
        default=None,
        metadata=_help("continuous actions: the Gaussian's spread, a softplus variance per state or one "
                       "learned log-std per action dimension", choices=POLICY_STDS),
    )
    log_std_init: float = field(
        default=-1.0, metadata=_help("--policy-std log-std: the log standard deviation it starts at")
    )
    min_var: float = field(
        default=1e-2,
        metadata=_help("continuous actions: floor added to the Gaussian's variance (not in the paper)"),
    )
    obs_norm: bool | None = field(
        default=None,
        metadata=_help("standardise observations by running statistics, shared and saved"),
    )
    reward_norm: bool | None = field(
        default=None,
        metadata=_help("scale training rewards by the running std of the return, shared and saved"),
    )
    shared_torso: bool | None = field(
        default=None, metadata=_help("A3C: policy and value share the torso")
    )
    init: str | None = field(
        default=None,
        metadata=_help("initial weights: orthogonal, or U(+-1/sqrt(fan_in)) as Torch7's", choices=INITS),
    )
    q_init_gain: float | None = field(
        default=None,
        metadata=_help("Q methods, --init orthogonal: the gain of the Q output's init"),
    )


@dataclass
class AlgoConfig:
    """The learning algorithm and its hyper-parameters (paper notes, section 'The four methods')."""

    algo: str = field(default="a3c", metadata=_help("the method", choices=ALGORITHMS))
    t_max: int | None = field(
        default=None, metadata=_help("A3C and n-step Q: steps per segment before an update")
    )
    async_update: int = field(
        default=5, metadata=_help("one-step Q and Sarsa: steps whose gradients are accumulated per update")
    )
    target_update: int | None = field(
        default=None, metadata=_help("Q methods: global frames between target network updates")
    )
    epsilon_frames: int | None = field(
        default=None,
        metadata=_help("Q methods: global frames over which epsilon anneals from 1 to its final value"),
    )
    gamma: float = field(default=0.99, metadata=_help("discount factor"))
    entropy_beta: float | None = field(default=None, metadata=_help("A3C: entropy regularisation weight"))
    value_loss_coef: float = field(default=0.5, metadata=_help("A3C: weight of the value loss (R - V)^2"))


@dataclass
class OptimConfig:
    """Shared RMSProp (statistics shared by all learners, epsilon inside the square root)."""

    lr: float | None = field(default=None, metadata=_help("initial learning rate"))
    lr_anneal: bool | None = field(
        default=None, metadata=_help("anneal the learning rate linearly to 0 over --frames")
    )
    lr_warmup_frames: int = field(
        default=0, metadata=_help("raise the learning rate linearly from 0 over the first N frames")
    )
    rms_alpha: float = field(default=0.99, metadata=_help("RMSProp decay of the squared-gradient average"))
    rms_eps: float | None = field(default=None, metadata=_help("RMSProp epsilon, inside the square root"))
    rms_init: float | None = field(
        default=None,
        metadata=_help("RMSProp: the squared-gradient average's start (0: PyTorch's; 1: TensorFlow's)"),
    )
    max_grad_norm: float | None = field(
        default=None, metadata=_help("clip each update's gradient to this L2 norm (0: no clipping)")
    )


@dataclass
class RunConfig:
    """Where and how long to run, and what to record."""

    workers: int | None = field(default=None, metadata=_help("actor-learner processes"))
    envs_per_worker: int | None = field(
        default=None,
        metadata=_help("environments each learner steps at once, one update for all their segments"),
    )
    torch_threads: int = field(default=1, metadata=_help("PyTorch intra-op threads per learner"))
    frames: int | None = field(
        default=None, metadata=_help("training budget in environment frames (Atari: emulator frames)")
    )
    max_seconds: float | None = field(
        default=None, metadata=_help("also stop after this many seconds (default: no limit)")
    )
    stop_at_return: float | None = field(
        default=None,
        metadata=_help("also stop once the mean return of this session's last --stop-episodes episodes "
                       "reaches this (default: none)"),
    )
    stop_episodes: int = field(default=20, metadata=_help("episodes averaged for --stop-at-return"))
    seed: int = field(default=0, metadata=_help("base seed of the network and every learner"))
    run_dir: str | None = field(
        default=None, metadata=_help("run directory (default: runs/<algo>-<env>-<timestamp>)")
    )
    backend: str = field(
        default="local",
        metadata=_help("local processes or a Ray cluster", choices=BACKENDS),
    )
    address: str | None = field(
        default=None,
        metadata=_help("--backend ray: host:port or auto (default: local Ray)"),
    )
    ray_layout: str = field(
        default="node-groups",
        metadata=_help("--backend ray: a node's learners share memory, or an actor per learner",
                       choices=RAY_LAYOUTS),
    )
    ray_shards: int = field(default=1, metadata=_help("node groups: parameter-service shards"))
    exchange_rate: float = field(default=20.0, metadata=_help("node groups: exchanges/s per node"))
    exchange_dtype: str = field(
        default="fp32", metadata=_help("node groups: theta's changes travel as", choices=EXCHANGE_DTYPES)
    )
    checkpoint_interval: float = field(default=300.0, metadata=_help("seconds between checkpoints"))
    hang_seconds: float | None = field(
        default=None,
        metadata=_help(
            "restart a learner without progress for this many seconds; 0: never (default: "
            f"{HANG_FACTOR}x its usual update interval, at least {HANG_MIN_SECONDS:g} s; "
            f"{HANG_STARTUP_SECONDS:g} s at start)"
        ),
    )
    log_interval: float = field(
        default=10.0, metadata=_help("seconds between progress lines off a terminal (under 2: "
                                     "the learners' statistics too)")
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
    ("run", "ray_layout"),
    ("run", "ray_shards"),
    ("run", "exchange_rate"),
    ("run", "exchange_dtype"),
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
# defaults (PyTorch's init and RMSProp before 2026-11-30; the Q output's gain before 2026-12-04; the
# continuous network's of issue 18; Gymnasium's Atari pipeline before --vector-env). CHANGELOG.md
# lists them.
UNSAVED_BEFORE = {"net": {"init": "uniform", "q_init_gain": 1.0, "activation": "relu", "policy_std": "softplus",
                          "obs_norm": False, "reward_norm": False},
                  "optim": {"rms_init": 0.0},
                  "env": {"vector_env": False}}


def with_unsaved_fields(saved: dict[str, Any]) -> dict[str, Any]:
    """A run's saved config (``config.json``'s groups) with the fields it predates filled in."""
    out = dict(saved)
    for group, values in UNSAVED_BEFORE.items():
        if isinstance(out.get(group), dict):
            out[group] = {**values, **out[group]}
    return out


def task_of(config: TrainConfig, continuous: bool = False) -> tuple[str, str]:
    """(task family, method) of ``config`` as the defaults table names them (``asyncrl.defaults``)."""
    return defaults.task_family(is_atari(config.env.env_id), continuous), defaults.method_of(
        config.algo.algo, config.net.core)


# NetConfig's fields that only the action space decides (vector observations: the paper's MLP, or
# asyncrl's network for continuous actions).
_ACTION_DEPENDENT_NET = ("hidden", "activation", "policy_std", "obs_norm", "reward_norm")


def net_defaults(net: NetConfig, continuous: bool) -> NetConfig:
    """``net`` with its action-dependent fields that are unset (None) filled from the defaults table."""
    family = "continuous" if continuous else "vector"
    return dataclasses.replace(net, **{
        name: defaults.row_for(("net", name), family, "a3c-ff").value
        for name in _ACTION_DEPENDENT_NET if getattr(net, name) is None})


def default_workers(config: TrainConfig, cpus: int) -> int:
    """The default --workers given ``cpus`` (this machine's, or a Ray cluster's per learner)."""
    row = defaults.row_for(("run", "workers"), *task_of(config))
    return defaults.value_of(row, cpus)


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
    effect on its task, or that does not do what it says (a warm-up longer than the run); and per
    node-group setting changed from its default in a run without node groups."""
    resolved = resolve(config, actions)
    lines = []
    for (group, name), why in not_applying(resolved, actions).items():
        given, used = getattr(getattr(config, group), name), getattr(getattr(resolved, group), name)
        if given is not None and given != used:
            lines.append(f"{flag_for(group, name)} {as_typed(given)} has no effect: {why}; config.json "
                         f"records {as_typed(used)}")
    r = resolved.run
    if r.backend != "ray" or r.ray_layout != "node-groups":
        where = "--backend local" if r.backend != "ray" else f"--ray-layout {r.ray_layout}"
        for name in ("ray_shards", "exchange_rate", "exchange_dtype"):
            value, default = getattr(r, name), RunConfig.__dataclass_fields__[name].default
            if value != default:  # these have defaults, not None: a value other than it was given
                lines.append(f"{flag_for('run', name)} {as_typed(value)} has no effect: it sets node groups' "
                             f"exchange (--backend ray --ray-layout node-groups), and this run is {where}")
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
    config = dataclasses.replace(config, **{g: dataclasses.replace(getattr(config, g)) for g in GROUPS})
    # Without the action space the entropy weight stays unset: it depends on the kind of policy.
    skip = frozenset() if actions is not None else frozenset({("algo", "entropy_beta")})
    defaults.fill(config, *task_of(config, continuous), os.cpu_count() or 1, skip)
    if continuous and config.algo.algo != "a3c":
        raise ConfigError(f"{config.env.env_id} has continuous actions: --algo {config.algo.algo} needs a "
                          "Discrete action space (use --algo a3c)")
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
    _check(r.ray_layout in RAY_LAYOUTS, ("run", "ray_layout"), r.ray_layout, "one of " + ", ".join(RAY_LAYOUTS))
    _check(r.ray_shards >= 1, ("run", "ray_shards"), r.ray_shards, "a positive integer")
    _check(r.exchange_rate > 0 and math.isfinite(r.exchange_rate), ("run", "exchange_rate"), r.exchange_rate,
           "a positive number of exchanges per second")
    _check(r.exchange_dtype in EXCHANGE_DTYPES, ("run", "exchange_dtype"), r.exchange_dtype,
           "one of " + ", ".join(EXCHANGE_DTYPES))
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
