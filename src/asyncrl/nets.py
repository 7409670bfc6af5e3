"""Networks: a torso (the paper's Atari conv net, or an MLP for vector observations), optionally an
LSTM core after it, and a head.

Observations stay uint8 until here: the Atari torso scales pixels to [0, 1] as its first step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from asyncrl import defaults
from asyncrl.algos.policies import Categorical, Gaussian
from asyncrl.config import NetConfig, net_defaults
from asyncrl.envs import ActionSpec


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
        # NHWC frames: oneDNN's backward then skips a reorder per layer; the learning pass is 17-29 %
        # faster at the learners' batches and training 10 % (docs/experiments/speed-second-round.md, bench/convs.py).
        x = obs.contiguous(memory_format=torch.channels_last).float().div_(255.0)  # in place: one float copy
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return F.relu(self.fc(x.flatten(1)))


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class MLPTorso(nn.Module):
    """Fully connected layers for low-dimensional state (the paper: one layer of 200 ReLU units)."""

    def __init__(self, in_features: int, hidden: tuple[int, ...] = (200,), activation: str = "relu"):
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(in_features, width), ACTIVATIONS[activation]()]
            in_features = width
        self.body = nn.Sequential(*layers)
        self.out_features = in_features

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs.float())


def _start_near_uniform(policy: nn.Linear) -> None:
    """Small policy weights start every learner near the maximum-entropy policy (softmax: uniform;
    Gaussian: mean 0)."""
    nn.init.orthogonal_(policy.weight, gain=0.01)
    nn.init.zeros_(policy.bias)


class ActorCriticHead(nn.Module):
    """Softmax policy logits and a linear state value, both on the shared torso features."""

    distribution = Categorical

    def __init__(self, in_features: int, n_actions: int):
        super().__init__()
        self.policy = nn.Linear(in_features, n_actions)
        self.value = nn.Linear(in_features, 1)
        _start_near_uniform(self.policy)

    def forward(self, features: torch.Tensor, value_features: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        value_in = features if value_features is None else value_features
        return self.policy(features), self.value(value_in).squeeze(-1)


class GaussianActorCriticHead(nn.Module):
    """A linear mean per action dimension and a variance: the paper's softplus of a linear layer
    (a variance per state), or ``std="log-std"``, one learned log standard deviation per dimension
    for every state (``log_std``, starting at ``log_std_init``), as most current libraries do.

    The policy output is one tensor, means then variances (``Gaussian`` splits it), so the
    actor-critic loss slices and batches it exactly like discrete logits.
    """

    distribution = Gaussian

    def __init__(self, in_features: int, action_dim: int, min_var: float = 1e-2, std: str = "softplus",
                 log_std_init: float = 0.0):
        super().__init__()
        self.min_var = min_var
        self.mean = nn.Linear(in_features, action_dim)
        if std == "softplus":
            self.var = nn.Linear(in_features, action_dim)
        else:
            self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std_init)))
        self.value = nn.Linear(in_features, 1)
        _start_near_uniform(self.mean)

    def forward(self, features: torch.Tensor, value_features: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        value_in = features if value_features is None else value_features
        mean = self.mean(features)
        if hasattr(self, "var"):
            var = F.softplus(self.var(features))
        else:
            var = torch.exp(2 * self.log_std).expand_as(mean)
        # The floor keeps the policy from collapsing onto one action: as var -> 0 the score
        # (a - mu) / var grows without bound and one noisy advantage throws the mean far
        # outside the action bounds, where clipping makes every sample the same action.
        return torch.cat([mean, var + self.min_var], dim=-1), self.value(value_in).squeeze(-1)


class QHead(nn.Module):
    """One linear action value per action."""

    def __init__(self, in_features: int, n_actions: int):
        super().__init__()
        self.q = nn.Linear(in_features, n_actions)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.q(features)


class LSTMCore(nn.Module):
    """An LSTM after the torso, over a batch of sequences laid end to end (see ``Network``)."""

    def __init__(self, in_features: int, cells: int):
        super().__init__()
        self.lstm = nn.LSTM(in_features, cells, batch_first=True)
        self.out_features = cells

    def forward(self, features: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None,
                lengths: Sequence[int] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        lengths = [1] * len(features) if lengths is None else list(lengths)
        n = len(lengths)
        if min(lengths) == max(lengths):  # acting, or segments of equal length: a plain reshape
            out, state = self.lstm(features.reshape(n, lengths[0], -1), state)
            return out.reshape(len(features), -1), state
        # Segments cut short by an episode's end: packed, so that each sequence's final state is
        # the one after its own last row, not after padding.
        packed = nn.utils.rnn.pack_sequence(features.split(lengths), enforce_sorted=False)
        out, state = self.lstm(packed, state)
        padded, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        real = torch.arange(padded.shape[1]) < torch.tensor(lengths).unsqueeze(1)
        return padded[real], state  # row-major over (sequence, step): laid end to end again


LSTMState = tuple  # (policy (h, c), value (h, c) or None): h and c are (1, sequences, cells)


def state_rows(state: LSTMState, rows: Sequence[int]) -> LSTMState:
    """The state of some of the sequences (environments), in the order of ``rows``."""
    return _map_state(lambda t: t[:, list(rows)], state)


def with_state_rows(state: LSTMState, rows: Sequence[int], new: LSTMState) -> LSTMState:
    """``state`` with the rows ``rows`` replaced by those of ``new`` (a new state; no tensor changed)."""
    index = torch.tensor(list(rows), dtype=torch.int64)
    return _map_state(lambda t, n: t.index_copy(1, index, n), state, new)


def reset_state_rows(state: LSTMState, rows: Sequence[int]) -> LSTMState:
    """``state`` with the rows ``rows`` back at zeros (their episodes ended)."""
    if not rows:
        return state
    keep = torch.ones(state[0][0].shape[1], 1)
    keep[list(rows)] = 0.0
    return _map_state(lambda t: t * keep, state)


def _map_state(fn, *states: LSTMState) -> LSTMState:
    """``fn`` over the corresponding h and c tensors of ``states`` (a missing value core stays None)."""
    return tuple(None if cores[0] is None else tuple(fn(*tensors) for tensors in zip(*cores, strict=True))
                 for cores in zip(*states, strict=True))


class ObsNorm(nn.Module):
    """Standardises vector observations by a running mean and variance of all learners' observations.

    The statistics are buffers: in the shared network they sit in shared memory, learners fold
    their segments into them lock-free (``update``) and copy them with the parameters, and they
    are saved in checkpoints, so evaluation normalises exactly as training did.
    """

    def __init__(self, size: int, clip: float = 10.0):
        super().__init__()
        self.clip = clip
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("var", torch.ones(size, dtype=torch.float64))

    @torch.no_grad()
    def update(self, batch: torch.Tensor) -> None:
        """Merge a batch's mean and variance into the running ones (Chan et al.'s parallel formula)."""
        batch = batch.double()
        n = batch.shape[0]
        total = self.count + n
        delta = batch.mean(0) - self.mean
        m2 = self.var * self.count + batch.var(0, unbiased=False) * n + delta.pow(2) * self.count * n / total
        self.mean += delta * n / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = (obs.double() - self.mean) / torch.sqrt(self.var + 1e-8)
        return x.clamp(-self.clip, self.clip).float()


class RewardNorm(ObsNorm):
    """Scales rewards by the running standard deviation of the discounted return, as VecNormalize's
    ``norm_reward`` does (the returns' scale, not the rewards', sets the value targets' scale).

    Learners fold each step's discounted return so far, per environment, into the statistics
    (``update``), shared and saved like ``ObsNorm``'s; the scaled rewards are clipped to
    ``[-clip, clip]``. Acting and evaluation never see it: scores stay raw.
    """

    def __init__(self, clip: float = 10.0):
        super().__init__(1, clip)

    def scale(self, rewards: torch.Tensor) -> torch.Tensor:
        std = torch.sqrt(self.var + 1e-8).float()
        return (rewards / std).clamp(-self.clip, self.clip)


class Network(nn.Module):
    """Torso, optional LSTM core, head; ``forward`` returns whatever the head returns.

    With a ``value_torso`` the actor-critic value has a network of its own (the paper's choice
    for low-dimensional inputs); otherwise policy and value share every layer below the head.

    A recurrent network keeps its LSTM state in ``state``: one row per sequence (an environment),
    or None for zeros (an episode's start). ``forward(obs)`` reads each row of ``obs`` as one step of
    its own sequence (acting in a batch of environments, state row k for obs row k);
    ``forward(obs, lengths)`` reads ``obs`` as ``len(lengths)`` sequences laid end to end, sequence k
    of ``lengths[k]`` consecutive steps starting from state row k (replaying segments). Either way it
    leaves each sequence's state after its last row in ``state``; whoever steps the network resets
    or restores it. A feed-forward network ignores ``lengths``.
    """

    def __init__(self, torso: nn.Module, head: nn.Module, value_torso: nn.Module | None = None,
                 core: LSTMCore | None = None, value_core: LSTMCore | None = None,
                 obs_norm: ObsNorm | None = None, reward_norm: RewardNorm | None = None):
        super().__init__()
        self.obs_norm = obs_norm
        self.reward_norm = reward_norm
        self.torso = torso
        self.head = head
        self.value_torso = value_torso
        self.core = core
        self.value_core = value_core
        self.state: tuple | None = None

    @property
    def distribution(self):
        """The policy distribution an actor-critic head parameterises (``asyncrl.algos.policies``)."""
        return self.head.distribution

    @property
    def recurrent(self) -> bool:
        return self.core is not None

    def reset_state(self) -> None:
        self.state = None

    def zero_state(self, sequences: int) -> LSTMState | None:
        """The state at an episode's start for ``sequences`` environments (None if feed-forward)."""
        if self.core is None:
            return None

        def zeros(core: LSTMCore | None):
            if core is None:
                return None
            return tuple(torch.zeros(1, sequences, core.out_features) for _ in range(2))

        return (zeros(self.core), zeros(self.value_core))

    def forward(self, obs: torch.Tensor, lengths: Sequence[int] | None = None):
        if self.obs_norm is not None:
            obs = self.obs_norm(obs)
        features = self.torso(obs)
        value_features = None if self.value_torso is None else self.value_torso(obs)
        if self.core is not None:
            policy_state, value_state = self.state or (None, None)
            features, policy_state = self.core(features, policy_state, lengths)
            if self.value_core is not None:
                value_features, value_state = self.value_core(value_features, value_state, lengths)
            self.state = (policy_state, value_state)
        if value_features is None:
            return self.head(features)
        return self.head(features, value_features)


def build_network(obs_shape: tuple[int, ...], n_actions: int | ActionSpec, head: str,
                  config: NetConfig | None = None) -> Network:
    """The conv torso for stacked frames (C, H, W), the MLP torso for vectors (D,).

    ``n_actions`` is a number of discrete actions or an ``ActionSpec``; a continuous one gets the
    Gaussian actor-critic head. ``config.core == "lstm"`` puts an LSTM after each torso;
    ``config.obs_norm`` standardises (vector) observations before them.
    """
    actions = n_actions if isinstance(n_actions, ActionSpec) else ActionSpec(False, n_actions)
    config = net_defaults(config or NetConfig(), actions.continuous)
    shared_torso = config.shared_torso is not False
    if len(obs_shape) == 3:
        make_torso = lambda: AtariTorso(in_channels=obs_shape[0], screen_size=obs_shape[1])
    elif len(obs_shape) == 1:
        make_torso = lambda: MLPTorso(obs_shape[0], config.hidden, config.activation)
    else:
        raise ValueError(f"no torso for observations of shape {obs_shape}")
    torso = make_torso()
    value_torso = make_torso() if head == "actor_critic" and not shared_torso else None
    core = value_core = None
    if config.core == "lstm":
        # An unresolved config (the Python API) gets the LSTM size of the pixel or the vector torso.
        cells = config.lstm_cells or defaults.row_for(
            ("net", "lstm_cells"), "atari" if len(obs_shape) == 3 else "vector", "a3c-lstm").value
        core = LSTMCore(torso.out_features, cells)
        if value_torso is not None:
            value_core = LSTMCore(value_torso.out_features, cells)
    features = core.out_features if core is not None else torso.out_features
    if head == "q":
        head_module: nn.Module = QHead(features, actions.size)
    elif actions.continuous:
        head_module = GaussianActorCriticHead(features, actions.size, config.min_var, config.policy_std,
                                              config.log_std_init)
    else:
        head_module = ActorCriticHead(features, actions.size)
    obs_norm = ObsNorm(obs_shape[0]) if config.obs_norm else None
    reward_norm = RewardNorm() if config.reward_norm else None
    network = Network(torso, head_module, value_torso, core, value_core, obs_norm, reward_norm)
    if config.init == "orthogonal":
        orthogonal_init(network, q_gain=1.0 if config.q_init_gain is None else config.q_init_gain)
    return network


def orthogonal_init(network: Network, q_gain: float = 1.0) -> None:
    """Orthogonal weights with ReLU's gain sqrt(2) in the torsos, gain 1 for the value output and
    ``q_gain`` for the Q output, zero biases; the policy outputs keep their small start near the
    maximum-entropy policy.

    Why: with PyTorch's default U(+-1/sqrt(fan_in)) each layer shrinks its input's spread, and on
    Atari, where frames differ only in a few pixels (a ball, two paddles), the 256 features then
    vary across states by a twentieth of what the orthogonal init gives (docs/algorithms/a3c.md).
    """
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(module.weight, gain=2 ** 0.5)
            nn.init.zeros_(module.bias)
    head = network.head
    if hasattr(head, "value"):
        nn.init.orthogonal_(head.value.weight, gain=1.0)
    if hasattr(head, "q"):
        nn.init.orthogonal_(head.q.weight, gain=q_gain)
    for name in ("policy", "mean"):
        if hasattr(head, name):
            _start_near_uniform(getattr(head, name))
