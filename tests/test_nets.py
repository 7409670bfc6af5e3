"""Network shapes: the seed's conv torso exactly, the MLP torso, and both heads."""

import torch

from asyncrl import NetConfig
from asyncrl.nets import AtariTorso, build_network


def test_conv_torso_is_the_seeds_network():
    torso = AtariTorso()
    assert (torso.conv1.out_channels, torso.conv1.kernel_size, torso.conv1.stride) == (16, (8, 8), (4, 4))
    assert (torso.conv2.out_channels, torso.conv2.kernel_size, torso.conv2.stride) == (32, (4, 4), (2, 2))
    assert (torso.fc.in_features, torso.fc.out_features) == (32 * 9 * 9, 256)
    features = torso(torch.zeros(3, 4, 84, 84, dtype=torch.uint8))
    assert features.shape == (3, 256) and features.dtype == torch.float32


def test_conv_torso_computes_the_layers_on_frames_scaled_to_unit_range():
    # The torso runs its convolutions on NHWC frames for speed; the features (flattened in the usual
    # channel, row, column order) and the gradients must be those of the plain NCHW computation.
    torch.manual_seed(0)
    torso = AtariTorso()
    frames = torch.randint(0, 256, (6, 4, 84, 84), dtype=torch.uint8)
    features = torso(frames)
    features.square().sum().backward()
    fast = [p.grad.clone() for p in torso.parameters()]

    torso.zero_grad()
    x = frames.float() / 255.0
    x = torch.relu(torch.nn.functional.conv2d(x, torso.conv1.weight, torso.conv1.bias, stride=4))
    x = torch.relu(torch.nn.functional.conv2d(x, torso.conv2.weight, torso.conv2.bias, stride=2))
    reference = torch.relu(torch.nn.functional.linear(x.contiguous().view(6, -1), torso.fc.weight, torso.fc.bias))
    reference.square().sum().backward()
    torch.testing.assert_close(features, reference)
    for grad, param in zip(fast, torso.parameters(), strict=True):
        torch.testing.assert_close(grad, param.grad)
        assert grad.is_contiguous()  # the shared RMSProp steps plain tensors


def test_actor_critic_head_gives_logits_per_action_and_one_value():
    net = build_network((4, 84, 84), n_actions=6, head="actor_critic")
    logits, values = net(torch.randint(0, 255, (5, 4, 84, 84), dtype=torch.uint8))
    assert logits.shape == (5, 6) and values.shape == (5,)
    # Started near the uniform policy, as every learner should be.
    probs = torch.softmax(logits, -1)
    assert torch.allclose(probs, torch.full_like(probs, 1 / 6), atol=0.02)


def test_q_head_gives_one_value_per_action():
    net = build_network((4, 84, 84), n_actions=4, head="q")
    assert net(torch.zeros(2, 4, 84, 84, dtype=torch.uint8)).shape == (2, 4)


def test_q_init_gain_scales_the_orthogonal_q_output_and_nothing_else():
    # Same seed, same draws: only the Q output's weights differ, by exactly the gain's ratio, so a
    # gain of 0.01 starts every action value near 0 with the same torso.
    def build(gain):
        torch.manual_seed(0)
        return build_network((4, 84, 84), 6, "q", NetConfig(init="orthogonal", q_init_gain=gain))

    plain, small = build(1.0).state_dict(), build(0.01).state_dict()
    for name, weight in plain.items():
        if name == "head.q.weight":
            torch.testing.assert_close(small[name], 0.01 * weight)
        else:
            assert torch.equal(small[name], weight), name
    rows = plain["head.q.weight"] @ plain["head.q.weight"].T  # orthogonal rows of norm 1 at gain 1
    torch.testing.assert_close(rows, torch.eye(6), atol=1e-5, rtol=0)
    frames = torch.randint(0, 256, (8, 4, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        q_small = build(0.01)(frames)
    assert q_small.abs().max() < 0.05


def test_vector_observations_use_an_mlp_torso():
    net = build_network((8,), n_actions=3, head="actor_critic", config=NetConfig(hidden=(64, 32), shared_torso=True))
    logits, values = net(torch.zeros(7, 8))
    assert logits.shape == (7, 3) and values.shape == (7,)
    widths = [m.out_features for m in net.torso.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [64, 32]


def test_value_can_have_a_network_of_its_own():
    net = build_network((8,), n_actions=3, head="actor_critic", config=NetConfig(hidden=(16,), shared_torso=False))
    assert net.value_torso is not None
    _logits, values = net(torch.zeros(2, 8))
    values.sum().backward()
    assert net.torso.body[0].weight.grad is None  # the value loss does not reach the policy torso
    assert net.value_torso.body[0].weight.grad is not None
