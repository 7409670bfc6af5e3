"""The defaults a user gets: every method on Atari laid out for the machine, continuous actions with the
setting that learnt locomotion, discrete vector tasks with the paper's MLP, the paper's presets unchanged."""

import os

import pytest

from asyncrl import EnvConfig, NetConfig, RunConfig, TrainConfig, defaults
from asyncrl.config import AlgoConfig, OptimConfig, flag_for, resolve
from asyncrl.envs import ActionSpec
from asyncrl.presets import paper_differences, preset_config


def _resolved(env="ALE/Pong-v5", **groups) -> TrainConfig:
    return resolve(TrainConfig(env=EnvConfig(env_id=env), **groups))


# The methods with asyncrl's own Atari defaults (issues 15, 16).
OURS = {"A3C FF": {}, "A3C LSTM": {"net": NetConfig(core="lstm")},
        "n-step Q": {"algo": AlgoConfig(algo="n-step-q")}, "one-step Q": {"algo": AlgoConfig(algo="one-step-q")},
        "one-step Sarsa": {"algo": AlgoConfig(algo="one-step-sarsa")}}


@pytest.mark.parametrize("method", OURS)
@pytest.mark.parametrize("cores, workers, envs", [(1, 1, 16), (2, 2, 8), (3, 3, 6), (4, 4, 4), (16, 16, 1),
                                                   (64, 16, 1)])
def test_our_methods_on_atari_run_a_learner_per_core_with_at_least_16_environments_in_all(
        monkeypatch, method, cores, workers, envs):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    run = _resolved(**OURS[method]).run
    assert (run.workers, run.envs_per_worker) == (workers, envs)
    assert run.workers * run.envs_per_worker >= 16


def test_a_layout_given_in_part_is_completed_around_it(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    run = _resolved(run=RunConfig(workers=4)).run
    assert (run.workers, run.envs_per_worker) == (4, 4)
    run = _resolved(run=RunConfig(envs_per_worker=32)).run
    assert (run.workers, run.envs_per_worker) == (2, 32)


PAPERS = ("atari-a3c-ff", "atari-a3c-lstm", "atari-n-step-q", "atari-one-step-q", "atari-one-step-sarsa")


def test_the_papers_presets_keep_16_learners_of_one_environment(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    for name in PAPERS:
        run = resolve(preset_config(name, "ALE/Pong-v5")).run
        assert (run.workers, run.envs_per_worker) == (16, 1), name


@pytest.mark.parametrize("method, lr", [("A3C FF", 7e-4), ("A3C LSTM", 1e-4), ("n-step Q", 7e-4),
                                        ("one-step Q", 2e-3), ("one-step Sarsa", 2e-3)])
def test_our_methods_on_atari_take_normalised_rmsprop_steps_that_start_small_and_the_rest_keep_the_papers(
        method, lr):
    config = _resolved(**OURS[method])
    ours = config.optim
    assert (ours.rms_eps, ours.rms_init, ours.lr, ours.rms_alpha, ours.max_grad_norm) == (1e-5, 1.0, lr, 0.99, 40.0)
    assert config.net.init == "orthogonal"
    assert _resolved(optim=OptimConfig(lr=3e-4), **OURS[method]).optim.lr == 3e-4


def test_the_papers_presets_keep_the_papers_rmsprop_and_lr():
    for name in PAPERS:
        config = resolve(preset_config(name, "ALE/Pong-v5"))
        assert (config.optim.rms_eps, config.optim.rms_init, config.optim.lr) == (0.1, 0.0, 7e-4), name
    cartpole = _resolved("CartPole-v1").optim
    assert (cartpole.rms_eps, cartpole.rms_init) == (0.1, 0.0)
    assert resolve(preset_config("atari-a3c-ff", "ALE/Pong-v5")).net.init == "uniform"


def test_on_atari_a3c_ff_anneals_over_40m_frames_the_one_step_methods_over_an_hours_and_the_presets_over_80m():
    assert _resolved(**OURS["A3C FF"]).run.frames == 40_000_000
    for method in ("one-step Q", "one-step Sarsa"):
        assert _resolved(**OURS[method]).run.frames == 11_500_000
    assert _resolved(run=RunConfig(frames=1000), **OURS["one-step Q"]).run.frames == 1000
    for config in [resolve(preset_config(name, "ALE/Pong-v5")) for name in PAPERS] + [
            _resolved(algo=AlgoConfig(algo="n-step-q")), _resolved(**OURS["A3C LSTM"])]:
        assert config.run.frames == 80_000_000


def test_a3c_lstm_on_atari_holds_its_lr_and_everything_else_anneals_as_the_paper():
    assert _resolved(**OURS["A3C LSTM"]).optim.lr_anneal is False
    for method in ("A3C FF", "n-step Q", "one-step Q", "one-step Sarsa"):
        assert _resolved(**OURS[method]).optim.lr_anneal is True, method
    for name in PAPERS:
        assert resolve(preset_config(name, "ALE/Pong-v5")).optim.lr_anneal is True, name
    assert _resolved("CartPole-v1", net=NetConfig(core="lstm")).optim.lr_anneal is True
    assert _resolved(optim=OptimConfig(lr_anneal=True), **OURS["A3C LSTM"]).optim.lr_anneal is True


def test_n_step_q_on_atari_starts_its_q_output_small_and_everything_else_at_gain_1():
    assert _resolved(**OURS["n-step Q"]).net.q_init_gain == 0.01
    for method in ("one-step Q", "one-step Sarsa", "A3C FF"):
        assert _resolved(**OURS[method]).net.q_init_gain == 1.0, method
    assert resolve(preset_config("atari-n-step-q", "ALE/Pong-v5")).net.q_init_gain == 1.0  # uniform init
    assert _resolved("CartPole-v1", algo=AlgoConfig(algo="n-step-q")).net.q_init_gain == 1.0
    given = _resolved(algo=AlgoConfig(algo="n-step-q"), net=NetConfig(q_init_gain=0.5)).net
    assert given.q_init_gain == 0.5


def test_vector_observations_keep_one_learner_per_core_of_one_environment(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    run = _resolved("CartPole-v1").run
    assert (run.workers, run.envs_per_worker) == (3, 1)


def test_print_config_says_which_defaults_differ_from_the_papers_and_why(cli):
    import json
    import os

    result = cli("train", "--env", "ALE/Pong-v5", "--print-config")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)  # stdout stays the JSON that --config reads back
    assert config["net"]["init"] == "orthogonal"
    assert config["run"]["workers"] == min(os.cpu_count(), 16)
    notes = result.stderr.splitlines()
    assert notes[0] == "differs from the paper's settings (--preset atari-a3c-ff):"
    assert any(line.strip().startswith("--init orthogonal (paper uniform): with the uniform init") for line in notes)
    assert any("--envs-per-worker" in line and "(paper 1)" in line for line in notes)
    assert any(line.strip().startswith("--rms-eps 1e-5 (paper 0.1): with 0.1 every update is plain SGD")
               for line in notes)
    assert all(line.rstrip().endswith(".md)") for line in notes[1:])  # each names the runs that chose it
    assert config["env"]["vector_env"] is True
    assert any(line.strip().startswith("--vector-env on (paper off): ALE's C++ vector environment")
               for line in notes)
    pipeline = cli("train", "--env", "ALE/Pong-v5", "--no-vector-env", "--print-config")
    assert json.loads(pipeline.stdout)["env"]["vector_env"] is False
    assert "--vector-env" not in pipeline.stderr  # the paper's pipeline: nothing to say

    lstm = cli("train", "--env", "ALE/Pong-v5", "--net", "lstm", "--print-config").stderr.splitlines()
    assert lstm[0] == "differs from the paper's settings (--preset atari-a3c-lstm):"
    assert any(line.strip().startswith("--lr 1e-4 (paper 7e-4): at 7e-4") for line in lstm)
    assert any(line.strip().startswith("--lr-anneal off (paper on): annealed, Breakout") for line in lstm)
    assert not any("--frames" in line for line in lstm)  # nothing to anneal: the paper's budget
    n_step = cli("train", "--env", "ALE/Pong-v5", "--algo", "n-step-q", "--print-config").stderr
    assert "--rms-eps 1e-5 (paper 0.1): A3C FF's; with them and its layout n-step Q learnt Breakout" in n_step
    assert "--q-init-gain" not in n_step  # the paper's init has no such gain: nothing to compare
    for algo in ("one-step-q", "one-step-sarsa"):
        one_step = cli("train", "--env", "ALE/SpaceInvaders-v5", "--algo", algo, "--print-config").stderr
        assert one_step.splitlines()[0] == f"differs from the paper's settings (--preset atari-{algo}):"
        assert "--lr 2e-3 (paper 7e-4): " in one_step and "SpaceInvaders" in one_step
        assert "--envs-per-worker" in one_step and "--rms-eps 1e-5 (paper 0.1)" in one_step
        assert "--frames 11.5M (paper 80M): " in one_step

    given = cli("train", "--env", "ALE/Pong-v5", "--lr", "1e-3", "--print-config")
    assert "--lr 1e-3 (paper 7e-4): as given" in given.stderr

    paper = cli("train", "--env", "ALE/Pong-v5", "--preset", "atari-a3c-ff", "--print-config")
    assert paper.returncode == 0 and paper.stderr == ""
    assert json.loads(paper.stdout)["net"]["init"] == "uniform"
    assert cli("train", "--env", "CartPole-v1", "--print-config").stderr == ""


HALF_CHEETAH = ActionSpec(continuous=True, size=6)


def test_continuous_actions_default_to_the_setting_that_learnt_locomotion():
    config = resolve(TrainConfig(env=EnvConfig(env_id="HalfCheetah-v5")), HALF_CHEETAH)
    net, optim = config.net, config.optim
    assert (net.hidden, net.activation, net.policy_std, net.obs_norm, net.reward_norm) == (
        (64, 64), "tanh", "log-std", True, True)
    assert (optim.lr, optim.rms_eps, optim.rms_init, config.algo.entropy_beta) == (3.5e-4, 1e-5, 1.0, 0.0)
    assert (net.init, optim.max_grad_norm) == ("orthogonal", 0.0)  # SB3 A2C's init, not its clipping
    assert net.log_std_init == -1.0  # sigma 0.37, not SB3's 1
    assert config.algo.t_max == 20  # segments of 20 steps, not the paper's 5
    # Anything given is kept.
    given = resolve(TrainConfig(env=EnvConfig(env_id="HalfCheetah-v5"),
                                net=NetConfig(hidden=(200,), reward_norm=False, policy_std="softplus"),
                                optim=OptimConfig(rms_eps=0.1), algo=AlgoConfig(entropy_beta=1e-4, t_max=5)),
                     HALF_CHEETAH)
    assert (given.net.hidden, given.net.reward_norm, given.net.policy_std, given.net.activation) == (
        (200,), False, "softplus", "tanh")
    assert (given.optim.rms_eps, given.algo.entropy_beta, given.algo.t_max) == (0.1, 1e-4, 5)


def test_discrete_vector_tasks_keep_the_papers_mlp_and_rmsprop():
    config = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1")), ActionSpec(False, 2))
    assert (config.net.hidden, config.net.activation, config.net.obs_norm, config.net.reward_norm) == (
        (200,), "relu", False, False)
    assert (config.optim.lr, config.optim.rms_eps, config.optim.rms_init, config.algo.entropy_beta) == (
        3e-3, 0.1, 0.0, 0.01)
    assert (config.net.init, config.optim.max_grad_norm, config.algo.t_max) == ("uniform", 0.0, 5)
    # A3C LSTM takes a third of A3C FF's rate there; a rate given is kept.
    lstm = resolve(TrainConfig(env=EnvConfig(env_id="CartPole-v1"), net=NetConfig(core="lstm")), ActionSpec(False, 2))
    assert (lstm.optim.lr, lstm.optim.rms_eps, lstm.algo.entropy_beta) == (1e-3, 0.1, 0.01)
    given = TrainConfig(env=EnvConfig(env_id="CartPole-v1"), net=NetConfig(core="lstm"), optim=OptimConfig(lr=3e-3))
    assert resolve(given, ActionSpec(False, 2)).optim.lr == 3e-3


def test_the_mujoco_preset_keeps_the_papers_gaussian_and_rmsprop():
    config = resolve(preset_config("mujoco-a3c", "HalfCheetah-v5"), HALF_CHEETAH)
    assert (config.net.hidden, config.net.activation, config.net.policy_std, config.net.reward_norm) == (
        (200,), "relu", "softplus", False)
    assert config.net.obs_norm  # ours, not the paper's: MuJoCo's raw state spans orders of magnitude
    assert (config.optim.rms_eps, config.optim.rms_init, config.algo.entropy_beta, config.run.workers) == (
        0.1, 0.0, 1e-4, 16)
    assert (config.net.init, config.optim.max_grad_norm, config.algo.t_max) == ("uniform", 0.0, 5)


def test_print_config_names_the_continuous_defaults_that_are_not_the_papers(cli):
    import json

    result = cli("train", "--env", "Pendulum-v1", "--print-config")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["net"]["policy_std"] == "log-std"
    notes = result.stderr.splitlines()
    assert notes[0] == "differs from the paper's settings (--preset mujoco-a3c):"
    assert any(line.strip().startswith("--policy-std log-std (paper softplus): ") for line in notes)
    assert any(line.strip().startswith("--hidden 64,64 (paper 200): ") for line in notes)
    assert any(line.strip().startswith("--reward-norm on (paper off): ") for line in notes)
    assert any(line.strip().startswith("--t-max 20 (paper 5): ") for line in notes)
    assert not any("--obs-norm" in line for line in notes)  # the preset's is ours too
    assert "--hidden 32 (paper 200): as given" in cli("train", "--env", "Pendulum-v1", "--hidden", "32",
                                                      "--print-config").stderr
    paper = cli("train", "--env", "Pendulum-v1", "--preset", "mujoco-a3c", "--print-config")
    assert paper.returncode == 0 and paper.stderr == ""


# The defaults table (asyncrl.defaults): one row per value, the paper's from the presets.
TASKS = {"atari": ("ALE/Pong-v5", ActionSpec(False, 6)), "vector": ("CartPole-v1", ActionSpec(False, 2)),
         "continuous": ("HalfCheetah-v5", HALF_CHEETAH)}
REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


def _method_config(env: str, method: str) -> TrainConfig:
    algo, core = ("a3c", method[4:]) if method.startswith("a3c") else (method, "ff")
    return TrainConfig(env=EnvConfig(env_id=env), algo=AlgoConfig(algo=algo), net=NetConfig(core=core))


@pytest.mark.parametrize("family", TASKS)
def test_the_table_gives_every_task_dependent_setting_a_value_for_every_method(family):
    env, actions = TASKS[family]
    for method in defaults.methods_in(family):
        config = resolve(_method_config(env, method), actions)
        unset = [key for key in defaults.KEYS if getattr(getattr(config, key[0]), key[1]) is None]
        assert not unset, (family, method)
        for key in (k for k in defaults.KEYS if defaults.applies(k, family, method)):  # each from the table
            row = defaults.row_for(key, family, method, config)
            assert getattr(getattr(config, key[0]), key[1]) == defaults.value_of(row, os.cpu_count() or 1,
                                                                                 config.run.workers), key


def test_every_default_that_is_not_the_papers_says_why_and_links_the_runs_that_chose_it():
    found = defaults.differences()
    assert {(d.family, d.key) for d in found} >= {("atari", ("optim", "rms_eps")), ("continuous", ("algo", "t_max"))}
    for d in found:
        assert d.why and d.doc, d
        assert (REPO / d.doc).is_file(), d.doc
    for row in defaults.TABLE:  # a reason always comes with its runs
        assert bool(row.why) == bool(row.doc), row
        assert not row.doc or (REPO / row.doc).is_file(), row.doc


@pytest.mark.parametrize("family", ["atari", "continuous"])
def test_print_config_gives_a_reason_for_every_difference_from_the_paper_with_the_defaults(family):
    env, actions = TASKS[family]
    for method in defaults.methods_in(family):
        config = resolve(_method_config(env, method), actions)
        lines = paper_differences(config, actions)
        # Each difference of the defaults from the preset is one of the table's, with its reason.
        table = {flag_for(*d.key) for d in defaults.differences() if d.family == family and method in d.methods}
        flags = {line.split()[0] for line in lines}
        assert flags - {"--net"} == table, method  # the A3C LSTM differs from mujoco-a3c's core as asked
        assert all(line.endswith(".md)") for line in lines if not line.startswith("--net")), lines


def test_a_config_saved_before_a_setting_existed_reads_back_as_the_run_trained():
    from asyncrl.config import with_unsaved_fields

    # An n-step Q run on Atari saved on 2026-11-29: no init, rms_init, q_init_gain or vector_env yet.
    saved = TrainConfig(env=EnvConfig(env_id="ALE/Pong-v5"), algo=AlgoConfig(algo="n-step-q")).to_dict()
    for group, name in [("net", "init"), ("optim", "rms_init"), ("net", "q_init_gain"), ("env", "vector_env")]:
        del saved[group][name]
    old = resolve(TrainConfig.from_dict(with_unsaved_fields(saved)))
    assert (old.net.init, old.optim.rms_init, old.net.q_init_gain, old.env.vector_env) == ("uniform", 0.0, 1.0, False)
    today = resolve(_method_config("ALE/Pong-v5", "n-step-q"))
    assert (today.net.init, today.optim.rms_init, today.net.q_init_gain) == ("orthogonal", 1.0, 0.01)
