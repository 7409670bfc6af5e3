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

from asyncrl import defaults
from asyncrl.config import (
    GROUPS,
    ConfigError,
    TrainConfig,
    coerce_setting,
    field_types,
    flag_for,
    is_atari,
    task_of,
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
    family, method = task_of(config, actions is not None and actions.continuous)
    lines = []
    for (group, field_name), paper in PRESETS[name].settings.items():
        value = getattr(getattr(config, group), field_name)
        if value == paper:
            continue
        default = getattr(getattr(ours, group), field_name)
        why = "as given"
        if value == default and (group, field_name) in defaults.KEYS:
            row = defaults.row_for((group, field_name), family, method, config)
            why = f"{row.why} ({row.doc})" if row.why else ""
        value, paper = defaults.shown(value), defaults.shown(paper)
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
