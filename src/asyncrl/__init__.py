"""asyncrl: the asynchronous deep RL methods of Mnih et al. 2016 (A3C and friends) on CPU.

The names below are imported on first use, so that ``asyncrl --help``, ``asyncrl plot`` and a
mistyped flag answer without loading PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Agent": "asyncrl.agent",
    "load": "asyncrl.agent",
    "AlgoConfig": "asyncrl.config",
    "ConfigError": "asyncrl.config",
    "EnvConfig": "asyncrl.config",
    "NetConfig": "asyncrl.config",
    "OptimConfig": "asyncrl.config",
    "RunConfig": "asyncrl.config",
    "TrainConfig": "asyncrl.config",
    "make_env": "asyncrl.envs",
    "evaluate": "asyncrl.evaluate",
    "play": "asyncrl.play",
    "plot_runs": "asyncrl.plot",
    "PRESETS": "asyncrl.presets",
    "preset_config": "asyncrl.presets",
    "sweep": "asyncrl.sweep",
    "TrainingError": "asyncrl.errors",
    "train": "asyncrl.trainer",
}

__all__ = [  # noqa: RUF022 (grouped as _EXPORTS)
    "Agent", "load", "AlgoConfig", "ConfigError", "EnvConfig", "NetConfig", "OptimConfig", "RunConfig",
    "TrainConfig", "make_env", "evaluate", "play", "plot_runs", "PRESETS", "preset_config", "sweep",
    "TrainingError", "train", "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'asyncrl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from asyncrl.agent import Agent, load
    from asyncrl.config import (
        AlgoConfig,
        ConfigError,
        EnvConfig,
        NetConfig,
        OptimConfig,
        RunConfig,
        TrainConfig,
    )
    from asyncrl.envs import make_env
    from asyncrl.errors import TrainingError
    from asyncrl.evaluate import evaluate
    from asyncrl.play import play
    from asyncrl.plot import plot_runs
    from asyncrl.presets import PRESETS, preset_config
    from asyncrl.sweep import sweep
    from asyncrl.trainer import train
