"""The paper's settings by name (``--preset``), and config files (``--config FILE.toml``).

Settings are layered, each over the one before: the config's defaults, then the preset, then the
config file, then the flags given on the command line. ``config.json`` in the run directory holds
the result, resolved, so a run is reproducible from it alone (``--config runs/x/config.json``).

A config file has the sections of ``config.json`` with the same field names::

    preset = "atari-a3c-ff"      # optional

    [env]
    env_id = "ALE/Breakout-v5"

    [run]
    workers = 8
    frames = "20M"               # counts as in the CLI: 20M, 2e7, 20_000_000

    [optim]
    lr = 1e-3
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncrl.config import (
    GROUPS,
    ConfigError,
    TrainConfig,
    as_typed,
    coerce_setting,
    field_types,
    flag_for,
    is_atari,
    with_unsaved_fields,
)

if typing.TYPE_CHECKING:
    from asyncrl.envs import ActionSpec

Settings = dict[tuple[str, str], Any]  # (group, field) -> value


@dataclass(frozen=True)
class Preset:
    description: str
    atari: bool  # which environments it is for: Atari (ALE) ids, or vector observations
    settings: Settings


# The paper's Atari setup (section 5.1 and the supplementary material): 16 actor-learners, t_max 5,
# gamma 0.99, shared RMSProp (alpha 0.99, eps 0.1), the lr annealed to 0, Nature DQN preprocessing
# with a lost life as a learning terminal. The lr is the authors' reported default, 7e-4 (the paper
# sampled it per run: `asyncrl sweep`); 80M frames is PFRL's reproduction budget.
_ATARI = {
    # Not stated in the paper: the default of the Torch7 modules of its time (PyTorch's today).
    ("net", "init"): "uniform",
    ("run", "workers"): 16,
    ("run", "envs_per_worker"): 1,  # the paper's learner: one environment, one thread
    ("run", "frames"): 80_000_000,
    ("env", "frameskip"): 1,
    ("env", "action_repeat"): 4,
    ("env", "repeat_action_probability"): 0.0,
    ("env", "noop_max"): 30,
    ("env", "frame_stack"): 4,
    ("env", "clip_rewards"): True,
    ("env", "terminal_on_life_loss"): True,
    ("env", "vector_env"): False,  # Gymnasium's pipeline, checked against the paper's preprocessing
    ("algo", "gamma"): 0.99,
    ("optim", "lr"): 7e-4,
    ("optim", "lr_anneal"): True,
    ("optim", "lr_warmup_frames"): 0,
    ("optim", "rms_alpha"): 0.99,
    ("optim", "rms_eps"): 0.1,
    ("optim", "rms_init"): 0.0,
    ("optim", "max_grad_norm"): 40.0,
}
_ATARI_A3C = {**_ATARI, ("algo", "algo"): "a3c", ("algo", "t_max"): 5, ("algo", "entropy_beta"): 0.01,
              ("net", "shared_torso"): True}
# The Q methods: a shared target network copied every 40,000 frames, each actor's (environment's)
# epsilon annealed over 4M frames; the one-step methods apply their gradients every 5 steps, n-step
# Q looks 5 ahead.
_ATARI_Q = {**_ATARI, ("algo", "target_update"): 40_000, ("algo", "epsilon_frames"): 4_000_000,
            ("algo", "async_update"): 5, ("algo", "t_max"): 5}

PRESETS: dict[str, Preset] = {
    "atari-a3c-ff": Preset("A3C feed-forward on Atari, the paper's settings", True,
                           {**_ATARI_A3C, ("net", "core"): "ff"}),
    "atari-a3c-lstm": Preset("A3C LSTM (256 cells) on Atari, the paper's settings", True,
                             {**_ATARI_A3C, ("net", "core"): "lstm", ("net", "lstm_cells"): 256}),
    "atari-one-step-q": Preset("asynchronous one-step Q-learning on Atari", True,
                               {**_ATARI_Q, ("algo", "algo"): "one-step-q"}),
    "atari-one-step-sarsa": Preset("asynchronous one-step Sarsa on Atari", True,
                                   {**_ATARI_Q, ("algo", "algo"): "one-step-sarsa"}),
    "atari-n-step-q": Preset("asynchronous n-step Q-learning on Atari", True,
                             {**_ATARI_Q, ("algo", "algo"): "n-step-q"}),
    # Continuous control from the physical state (section 5.4 and supplementary section 9): a layer
    # of 200 ReLU units, separate policy and value networks, a Gaussian policy with entropy 1e-4,
    # 16 learners. Observation normalisation is ours (not in the paper): MuJoCo's raw state spans
    # several orders of magnitude. The lr is not the paper's either (it sampled one per run: `asyncrl
    # sweep`): without --lr it is asyncrl's default for continuous actions.
    "mujoco-a3c": Preset("A3C with a Gaussian policy on MuJoCo (physical state)", False, {
        ("algo", "algo"): "a3c",
        ("algo", "t_max"): 5,
        ("algo", "gamma"): 0.99,
        ("algo", "entropy_beta"): 1e-4,
        ("net", "core"): "ff",
        ("net", "hidden"): (200,),
        ("net", "activation"): "relu",
        ("net", "policy_std"): "softplus",
        ("net", "shared_torso"): False,
        ("net", "obs_norm"): True,
        ("net", "reward_norm"): False,
        ("net", "init"): "uniform",  # not stated in the paper: Torch7's default, as on Atari
        ("run", "workers"): 16,
        ("run", "envs_per_worker"): 1,
        ("optim", "lr_anneal"): True,
        ("optim", "rms_alpha"): 0.99,
        ("optim", "rms_eps"): 0.1,
        ("optim", "rms_init"): 0.0,
        ("optim", "max_grad_norm"): 0.0,  # not reported for this setting
    }),
}


# Why asyncrl's own Atari defaults differ from the paper's presets (issues 15, 16); shown by
# `asyncrl train --print-config`, with the runs that chose them in docs/algorithms/a3c.md and
# docs/BENCHMARKS.md. A (preset, group, field) key says it for one method only.
WHY_NOT_THE_PAPERS: dict[tuple, str] = {
    ("run", "workers"): "one learner per core: more learners than cores only contend (docs/BENCHMARKS.md)",
    ("run", "envs_per_worker"): "each learner steps several environments so that at least 16 act in all, "
                                "the paper's 16 actors, batched for speed",
    ("net", "init"): "orthogonal init: with the uniform one the features barely see the ball and paddles "
                     "and Pong does not start learning (docs/algorithms/a3c.md)",
    ("optim", "rms_eps"): "normalised RMSProp steps (A2C's epsilon): with 0.1 every update is plain SGD and "
                          "Pong's policy did not move in 15 minutes; with 1e-5 it did (docs/BENCHMARKS.md)",
    ("optim", "rms_init"): "g starts at 1 (TensorFlow's RMSProp): with a small epsilon, g = 0 makes the first "
                           "updates 10x the learning rate and can kill the torso (docs/algorithms/a3c.md)",
    ("env", "vector_env"): "ALE's C++ vector environment, 10 % more frames/s: the same preprocessing but "
                           "for a zero-padded first frame stack and NOOP while a segment waits; A3C FF's "
                           "Breakout learnt no less per frame with it, two seeds (docs/BENCHMARKS.md)",
    ("run", "frames"): "lr anneals over A2C's 40M frames: an hour here holds 14-28M, and over 80M the rate would "
                       "barely fall within it",
    ("atari-a3c-lstm", "optim", "lr"): "at 7e-4 (4 runs of 4, and half of those at 2-3e-4) the torso's units die "
                                       "in the first minute of Pong and the LSTM sees one constant: its value "
                                       "explained nothing; at 1e-4 (none of 4), 71 % of the returns' variance "
                                       "within 4 minutes (docs/BENCHMARKS.md)",
    ("atari-a3c-lstm", "optim", "lr_anneal"): "held at 1e-4: annealed over 40M frames it was a third of its "
                                              "start when the hour ended and Breakout, still doubling every "
                                              "10-20 minutes, evaluated at 74 (two seeds); held, at 171 and 136, "
                                              "and Pong's two hours still reached +10, in 44 and 41 minutes "
                                              "(docs/BENCHMARKS.md)",
    ("atari-n-step-q", "net", "init"): "orthogonal init, its Q output at gain 0.01 (--q-init-gain): with the "
                                        "uniform init the features barely see the ball and paddles; at gain 1 "
                                        "5 of 16 starting networks lost their torso in Pong's first minute, "
                                        "at 0.01 1 of the same 16 (docs/BENCHMARKS.md)",
    ("atari-n-step-q", "optim", "rms_eps"): "A3C FF's normalised RMSProp steps: with them and its layout n-step Q "
                                            "learnt Breakout to 47.8 in 15 minutes (docs/BENCHMARKS.md)",
    ("atari-one-step-q", "optim", "lr"): "with A3C FF's layout and RMSProp, one-step Q's greedy policy played "
                                         "SpaceInvaders no better than random after 15 minutes at 7e-4 (157) and "
                                         "scored 372 at 2e-3 (docs/BENCHMARKS.md)",
    ("atari-one-step-q", "run", "frames"): "the lr falls to 0 within the hour: over 80M it was still 86 % of its "
                                           "start when the hour ended and SpaceInvaders' games fell back in its "
                                           "last third (180); annealed over 11.5M frames two seeds evaluated at "
                                           "325 and 269 (docs/BENCHMARKS.md)",
    ("atari-one-step-sarsa", "run", "frames"): "as one-step Q's: annealed over 11.5M frames "
                                               "Sarsa's SpaceInvaders evaluated at 290, over 80M at 239 "
                                               "(docs/BENCHMARKS.md)",
    ("atari-one-step-sarsa", "optim", "lr"): "one-step Q's: Sarsa differs from it only in its target, and at 2e-3 "
                                             "its SpaceInvaders training games were as one-step Q's over the same "
                                             "frames (docs/algorithms/q.md)",
    # Continuous actions (issue 18): SB3 A2C's MuJoCo setting learnt HalfCheetah where the paper's
    # did not; the runs are in docs/BENCHMARKS.md, "Continuous A3C".
    ("mujoco-a3c", "net", "policy_std"): "one log-std per action dimension for every state, from -1 "
                                         "(--log-std-init): the paper's variance per state learnt no "
                                         "locomotion in 1M steps (HalfCheetah -80 to -430, its means outside "
                                         "the action bounds; docs/BENCHMARKS.md)",
    ("mujoco-a3c", "net", "reward_norm"): "rewards scaled by the running std of the return (VecNormalize's), "
                                          "as SB3 A2C on MuJoCo: the value's targets stay near 1 whatever the "
                                          "task's reward scale (docs/BENCHMARKS.md)",
    ("mujoco-a3c", "algo", "t_max"): "segments of 20 steps: at 5 three Hopper seeds of five stood still; at 20 "
                                     "five seeds evaluated at 1,782 (942) and HalfCheetah's at 5,322 (3,825); "
                                     "Pendulum learns less with it, from 4x fewer updates: it needs --lr 1.4e-3 or "
                                     "4M steps (docs/BENCHMARKS.md)",
    ("mujoco-a3c", "net", "hidden"): "SB3 A2C's MuJoCo network, with tanh (docs/BENCHMARKS.md)",
    ("mujoco-a3c", "net", "activation"): "SB3 A2C's MuJoCo network, two tanh layers of 64 (docs/BENCHMARKS.md)",
    ("mujoco-a3c", "algo", "entropy_beta"): "SB3 A2C's: the log-std is learnt without a bonus (docs/BENCHMARKS.md)",
    ("mujoco-a3c", "optim", "rms_eps"): "normalised RMSProp steps (SB3 A2C's epsilon, A3C FF's on Atari) "
                                        "(docs/BENCHMARKS.md)",
    ("mujoco-a3c", "net", "init"): "orthogonal init, SB3 A2C's (docs/BENCHMARKS.md)",
    ("mujoco-a3c", "optim", "rms_init"): "g starts at 1 (TensorFlow's RMSProp): with a small epsilon, g = 0 makes "
                                         "the first updates 10x the learning rate (docs/algorithms/a3c.md)",
}


def paper_preset_for(config: TrainConfig, continuous: bool = False) -> str | None:
    """The paper's preset for this config's method: on Atari, or A3C with ``continuous`` actions
    (``mujoco-a3c``); None for anything else."""
    if not is_atari(config.env.env_id):
        return "mujoco-a3c" if continuous and config.algo.algo == "a3c" else None
    if config.algo.algo == "a3c":
        return "atari-a3c-lstm" if config.net.core == "lstm" else "atari-a3c-ff"
    return f"atari-{config.algo.algo}"


def paper_differences(config: TrainConfig, actions: ActionSpec | None = None) -> list[str]:
    """One line per setting of a resolved config that differs from the paper's preset for its
    method (Atari, or continuous actions with ``actions``): the value, the paper's, and why
    (asyncrl's default) or that it was asked for."""
    name = paper_preset_for(config, actions is not None and actions.continuous)
    if name is None:
        return []
    from asyncrl.config import resolve

    ours = resolve(layered_config(TrainConfig(), {("env", "env_id"): config.env.env_id,
                                                 ("algo", "algo"): config.algo.algo,
                                                 ("net", "core"): config.net.core}), actions)
    lines = []
    for (group, field_name), paper in PRESETS[name].settings.items():
        value = getattr(getattr(config, group), field_name)
        if value == paper:
            continue
        default = getattr(getattr(ours, group), field_name)
        why = "as given"
        if value == default:
            why = WHY_NOT_THE_PAPERS.get((name, group, field_name), WHY_NOT_THE_PAPERS.get((group, field_name), ""))
        value, paper = as_typed(value), as_typed(paper)
        lines.append(f"{flag_for(group, field_name)} {value} (paper {paper}){': ' + why if why else ''}")
    return lines


def check_preset_env(name: str, env_id: str) -> None:
    """A preset is for Atari or for vector observations; refuse the other kind with one line."""
    if env_id and PRESETS[name].atari != is_atari(env_id):
        wanted = "an Atari id such as ALE/Pong-v5" if PRESETS[name].atari else "a MuJoCo id such as HalfCheetah-v5"
        raise ConfigError(f"--preset {name} is for {wanted}, not {env_id}")


def preset_settings(name: str) -> Settings:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return dict(PRESETS[name].settings)


def read_config_file(path: str | Path) -> tuple[str | None, Settings]:
    """(preset named in the file or None, its settings). TOML, or a run's config.json."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not a config file: not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                          f"position {exc.start})") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a table of settings")
    if "tool" in data:  # a run's config.json: reproduce the run, in a new run directory
        data = with_unsaved_fields({k: v for k, v in data.items() if k not in ("tool", "version")})
        if isinstance(data.get("run"), dict):
            data["run"] = {k: v for k, v in data["run"].items() if k != "run_dir"}
    preset = data.pop("preset", None)
    if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
        raise ConfigError(f"{path}: unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    types = field_types()
    settings: Settings = {}
    for group, values in data.items():
        if group not in GROUPS or not isinstance(values, dict):
            raise ConfigError(f"{path}: unknown section {group!r}; sections are {', '.join(GROUPS)} "
                              "(and a top-level preset)")
        for name, value in values.items():
            key = (group, name)
            if key not in types:
                valid = ", ".join(n for g, n in types if g == group)
                raise ConfigError(f"{path}: unknown setting {group}.{name}; [{group}] takes {valid}")
            if value is None:  # config.json's unset optional values: keep the default
                continue
            settings[key] = coerce_setting(key, value, str(path))
    return preset, settings


def layered_config(base: TrainConfig, *layers: Settings) -> TrainConfig:
    """``base`` with each layer of settings applied over the one before."""
    parts = {g: dataclasses.replace(getattr(base, g)) for g in GROUPS}
    for layer in layers:
        for (group, name), value in layer.items():
            setattr(parts[group], name, value)
    return TrainConfig(**parts)


def preset_config(name: str, env_id: str, **settings: Any) -> TrainConfig:
    """The preset's config for ``env_id``; ``settings`` override it by field name (e.g. ``workers=4``)."""
    types = field_types()
    layer: Settings = {("env", "env_id"): env_id}
    for field_name, value in settings.items():
        keys = [k for k in types if k[1] == field_name]
        if not keys:
            raise ConfigError(f"unknown setting {field_name!r}")
        layer[keys[0]] = value
    check_preset_env(name, env_id)
    return layered_config(TrainConfig(), preset_settings(name), layer)
