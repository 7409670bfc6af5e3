"""asyncrl: the asynchronous deep RL methods of Mnih et al. 2016 (A3C and friends) on CPU."""

__version__ = "0.1.0"

from asyncrl.config import (  # noqa: E402
    AlgoConfig,
    ConfigError,
    EnvConfig,
    NetConfig,
    OptimConfig,
    RunConfig,
    TrainConfig,
)
from asyncrl.envs import make_env  # noqa: E402
from asyncrl.evaluate import evaluate  # noqa: E402
from asyncrl.trainer import TrainingError, train  # noqa: E402

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
