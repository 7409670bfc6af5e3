"""Networks: a torso (the paper's Atari conv net, or an MLP for vector observations) and a head.

Observations stay uint8 until here: the Atari torso scales pixels to [0, 1] as its first step.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from asyncrl.config import NetConfig


class AtariTorso(nn.Module):
    """The seed's network (Mnih et al. 2013): conv 16x8x8/4, conv 32x4x4/2, FC 256, ReLU after each."""

    def __init__(self, in_channels: int = 4, screen_size: int = 84, out_features: int = 256):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=8, stride=4)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=4, stride=2)
        side = ((screen_size - 8) // 4 + 1 - 4) // 2 + 1  # 9 for 84x84 frames
        self.fc = nn.Linear(32 * side * side, out_features)
        self.out_features = out_features

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.float() / 255.0
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return F.relu(self.fc(x.flatten(1)))


class MLPTorso(nn.Module):
    """Fully connected ReLU layers for low-dimensional state (the paper uses one layer of 200)."""

    def __init__(self, in_features: int, hidden: tuple[int, ...] = (200,)):
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(in_features, width), nn.ReLU()]
            in_features = width
        self.body = nn.Sequential(*layers)
        self.out_features = in_features

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs.float())


class ActorCriticHead(nn.Module):
    """Softmax policy logits and a linear state value, both on the shared torso features."""

    def __init__(self, in_features: int, n_actions: int):
        super().__init__()
        self.policy = nn.Linear(in_features, n_actions)
        self.value = nn.Linear(in_features, 1)
        # Small policy weights start every learner near the uniform (maximum-entropy) policy.
        nn.init.orthogonal_(self.policy.weight, gain=0.01)
        nn.init.zeros_(self.policy.bias)

    def forward(self, features: torch.Tensor, value_features: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        value_in = features if value_features is None else value_features
        return self.policy(features), self.value(value_in).squeeze(-1)


class QHead(nn.Module):
    """One linear action value per action."""

    def __init__(self, in_features: int, n_actions: int):
        super().__init__()
        self.q = nn.Linear(in_features, n_actions)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.q(features)


HEADS = {"actor_critic": ActorCriticHead, "q": QHead}


class Network(nn.Module):
    """Torso followed by a head; ``forward`` returns whatever the head returns.

    With a ``value_torso`` the actor-critic value has a network of its own (the paper's choice
    for low-dimensional inputs); otherwise policy and value share every layer below the head.
    """

    def __init__(self, torso: nn.Module, head: nn.Module, value_torso: nn.Module | None = None):
        super().__init__()
        self.torso = torso
        self.head = head
        self.value_torso = value_torso

    def forward(self, obs: torch.Tensor):
        if self.value_torso is None:
            return self.head(self.torso(obs))
        return self.head(self.torso(obs), self.value_torso(obs))


def build_network(obs_shape: tuple[int, ...], n_actions: int, head: str, config: NetConfig | None = None
                  ) -> Network:
    """The conv torso for stacked frames (C, H, W), the MLP torso for vectors (D,)."""
    config = config or NetConfig()
    hidden = config.hidden
    shared_torso = config.shared_torso is not False
    if len(obs_shape) == 3:
        torso: nn.Module = AtariTorso(in_channels=obs_shape[0], screen_size=obs_shape[1])
        make_value_torso = lambda: AtariTorso(in_channels=obs_shape[0], screen_size=obs_shape[1])
    elif len(obs_shape) == 1:
        torso = MLPTorso(obs_shape[0], hidden)
        make_value_torso = lambda: MLPTorso(obs_shape[0], hidden)
    else:
        raise ValueError(f"no torso for observations of shape {obs_shape}")
    value_torso = make_value_torso() if head == "actor_critic" and not shared_torso else None
    return Network(torso, HEADS[head](torso.out_features, n_actions), value_torso)
