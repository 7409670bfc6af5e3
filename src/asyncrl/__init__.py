"""asyncrl: the asynchronous deep RL methods of Mnih et al. 2016 (A3C and friends) on CPU.

The names below are imported on first use, so that ``asyncrl --help``, ``asyncrl plot`` and a
mistyped flag answer without loading PyTorch.
"""

from __future__ import annotations

import importlib
import sys
import types
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


class _Package(types.ModuleType):
    """Importing the submodule ``asyncrl.evaluate`` (or ``play``, ``sweep``) would otherwise make
    ``asyncrl.evaluate`` that module, no longer the function of the same name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == value.__name__:
            return  # the submodule stays reachable as sys.modules["asyncrl.<name>"]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
