"""asyncrl: the asynchronous deep RL methods of Mnih et al. 2016 (A3C and friends) on CPU."""

__version__ = "0.1.0"

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
from asyncrl.evaluate import evaluate
from asyncrl.trainer import TrainingError, train

__all__ = [
    "AlgoConfig",
    "ConfigError",
    "EnvConfig",
    "NetConfig",
    "OptimConfig",
    "RunConfig",
    "TrainConfig",
    "TrainingError",
    "__version__",
    "evaluate",
    "make_env",
    "train",
]
