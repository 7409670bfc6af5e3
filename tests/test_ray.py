"""The Ray backend on a real two-node cluster.

A module fixture starts a Ray head and a second Ray node as separate processes on loopback
(``ray start --head`` and ``ray start --address``), one CPU each, so the two learners of a run land
on different nodes; every process it starts is stopped at the end. The runs drive the CLI as a
user would. One test runs the cluster commands of docs/distributed.md as they are written.
"""

import csv
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from conftest import assert_one_line_error, communicate_within

pytest.importorskip("ray")

RAY = str(Path(sys.executable).with_name("ray"))
THRESHOLD, WINDOW = 195, 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _active_nodes(address: str, env: dict) -> int:
    out = subprocess.run([RAY, "status", "--address", address], capture_output=True, text=True,
                         timeout=60, check=False, env=env).stdout
    active = out.split("Active:", 1)[-1].split("Pending:", 1)[0] if "Active:" in out else ""
    return sum(1 for line in active.splitlines() if line.strip().startswith("1 node_"))


def _stop(proc: subprocess.Popen) -> None:
    """Stop a ``ray start --block`` node and everything it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@dataclass
class Cluster:
    address: str
    env: dict  # what a process needs to join it: Ray's token authentication, like a real cluster


@pytest.fixture(scope="module")
def cluster():
    """A running two-node Ray cluster."""
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths live under it
    common = ["--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
              "--object-store-memory=100000000"]
    logs = open(Path(temp_dir) / "nodes.log", "w")  # noqa: SIM115 (open for the fixture's lifetime)
    nodes = [subprocess.Popen([RAY, "start", "--head", f"--port={port}", "--include-dashboard=false",
                               f"--temp-dir={temp_dir}", *common],
                              stdout=logs, stderr=subprocess.STDOUT, start_new_session=True, env=env)]
    try:
        deadline = time.monotonic() + 90
        while _active_nodes(address, env) < 1:
            assert time.monotonic() < deadline and nodes[0].poll() is None, "the Ray head did not start"
            time.sleep(1)
        nodes.append(subprocess.Popen([RAY, "start", f"--address={address}", *common],
                                      stdout=logs, stderr=subprocess.STDOUT, start_new_session=True, env=env))
        while _active_nodes(address, env) < 2:
            assert time.monotonic() < deadline and nodes[1].poll() is None, "the second Ray node did not join"
            time.sleep(1)
        yield Cluster(address, env)
    finally:
        for node in reversed(nodes):
            _stop(node)
        logs.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _train(cluster, run_dir, *args):
    cmd = [sys.executable, "-m", "asyncrl", "train", "--backend", "ray", "--address", cluster.address,
           "--workers", "2", "--run-dir", str(run_dir), "--log-interval", "5", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env)


def _finish(proc, timeout):
    out, err = communicate_within(proc, timeout)
    assert proc.returncode == 0, (out[-2000:], err[-3000:])
    return out, err


def _returns(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [float(row["return"]) for row in csv.DictReader(f)]


def _actor_pids(name: str) -> list[int]:
    """Ray names an actor's process after it: ray::Learner, ray::ParameterServer, ray::NodeGroup."""
    out = subprocess.run(["pgrep", "-f", f"ray::{name}"], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _learner_pids() -> list[int]:
    """The per-learner layout's learner actors, and the node groups' learner processes."""
    out = subprocess.run(["pgrep", "-f", "spawn_main"], capture_output=True, text=True, check=False).stdout
    spawned = [int(p) for p in out.split() if _has_ancestor_named(int(p), "ray::NodeGroup")]
    return _actor_pids("Learner") + spawned


def _none_within(pids_of, timeout: float = 15.0) -> list[int]:
    """What ``pids_of()`` still finds after up to ``timeout`` s: ray.kill only asks Ray to end an actor,
    and on a busy machine its process can outlive the driver's exit by a moment."""
    deadline = time.monotonic() + timeout
    while (pids := pids_of()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pids


def _has_ancestor_named(pid: int, name: str) -> bool:
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return name in Path(f"/proc/{parent}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return False


def _wait_for_episodes(proc, run_dir, episodes: int, timeout: float = 120) -> None:
    metrics = run_dir / "metrics.csv"
    deadline = time.monotonic() + timeout
    while not (metrics.exists() and len(metrics.read_text().splitlines()) > episodes):
        assert time.monotonic() < deadline and proc.poll() is None, "training did not get going"
        time.sleep(0.5)


def _kill_one_of_two(proc, run_dir, pids_of) -> None:
    """Once the run has episodes and both of ``pids_of()`` are up (the second may still be starting on
    its node), SIGKILL the first."""
    try:
        _wait_for_episodes(proc, run_dir, 10)
        deadline = time.monotonic() + 60
        while len(pids := pids_of()) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, pids
            time.sleep(0.5)
        os.kill(pids[0], signal.SIGKILL)
    except BaseException:
        proc.kill()
        raise


# The cluster commands of docs/distributed.md, run as written on two "machines" on loopback.
DOCS = Path(__file__).parents[1] / "docs" / "distributed.md"
DOCUMENTED = "<!-- tested by tests/test_ray.py::test_the_documented_cluster_commands_work -->"
# scp between the two machines: the head's files are those under the head's HOME.
SCP = """#!/bin/sh
[ $# -eq 2 ] && [ "${1%%:*}" = 127.0.0.1 ] || { echo "scp: expected 127.0.0.1:PATH DEST, got: $*" >&2; exit 2; }
src=${1#*:}
case $src in /*) ;; *) src="HEAD_HOME/$src" ;; esac
exec cp "$src" "$2"
"""


def _documented_cluster_commands() -> list[tuple[str, list[str]]]:
    """The tested ```bash block of docs/distributed.md: (where, its commands) for each comment line."""
    text = DOCS.read_text()
    assert DOCUMENTED + "\n```bash\n" in text, f"{DOCS} has no tested bash block"
    block = text.split(DOCUMENTED + "\n```bash\n", 1)[1].split("\n```", 1)[0]
    sections: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("#"):
            where = ("other" if "other node" in line else "every" if "every node" in line
                     else "head" if "head node" in line else line)
            sections.append((where, []))
        elif line.strip():
            sections[-1][1].append(line)
    return sections


def _pids_of(temp_dir: str) -> list[int]:
    """The processes that the commands started: each has ``temp_dir`` in its command line (Ray's
    daemons and workers) or ``ASYNCRL_DOCUMENTED_CLUSTER=temp_dir`` in its environment."""
    marker = f"ASYNCRL_DOCUMENTED_CLUSTER={temp_dir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for name in ("cmdline", "environ"):
            try:
                text = (entry / name).read_bytes()
            except OSError:
                continue
            ours = marker in text.split(b"\0") if name == "environ" else any(
                f"{temp_dir}{end}".encode() in text for end in ("/", "\0"))
            if ours:
                pids.append(int(entry.name))
                break
    return pids


def _stop_nodes(temp_dir: str, grace: float = 15) -> None:
    """``ray stop``, for the nodes these commands started alone (``ray stop`` ends every Ray
    process of the machine, the other tests' clusters included): SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _pids_of(temp_dir):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while _pids_of(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.5)


def run_documented_cluster_commands(sections, work: Path) -> dict:
    """Run ``sections`` (``_documented_cluster_commands()``) as written, on a head and a second node.

    The two nodes are two machines on loopback: each its own HOME (so the commands' token lives
    under ``work``, never in the user's ~/.ray), ``HEAD_IP`` is 127.0.0.1, Ray's port a free one,
    ``.venv/bin/`` this Python's, and ``scp`` copies from the head's HOME. What the test adds to
    the commands: to ``ray start`` one CPU per node, a temp dir and free ports of its own; to the
    training a small budget. Returns the run's summary.
    """
    port = _free_port()
    bin_dir, homes = work / "bin", {"head": work / "head", "other": work / "node"}
    for d in (bin_dir, *homes.values()):
        d.mkdir(parents=True)
    (bin_dir / "scp").write_text(SCP.replace("HEAD_HOME", str(homes["head"])))
    (bin_dir / "scp").chmod(0o755)
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths live under it
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_AUTH", "RAY_ADDRESS"))}
    base.update(ASYNCRL_DOCUMENTED_CLUSTER=temp_dir, PATH=os.pathsep.join([str(bin_dir), base.get("PATH", "")]))
    common = ("--num-cpus=1 --node-ip-address=127.0.0.1 --disable-usage-stats --object-store-memory=100000000"
              " --dashboard-agent-listen-port={}")
    extra = {"ray start --head": f" --temp-dir={temp_dir} --include-dashboard=false"
                                 f" --ray-client-server-port={_free_port()} " + common,
             "ray start --address": " " + common,
             "asyncrl train": " --frames 4k --quiet"}
    run_dir, log = None, work / "commands.log"
    try:
        with open(log, "w") as out:
            for where, commands in sections:
                if where == "every":  # the end: ray stop, on each node
                    assert commands == [".venv/bin/ray stop"], commands
                    assert len(_pids_of(temp_dir)) > 4, "no Ray processes of the two nodes to stop"
                    _stop_nodes(temp_dir)
                    continue
                assert where in homes, f"a section for neither the head nor the other nodes: {where!r}"
                env = {**base, "HOME": str(homes[where])}
                for command in commands:
                    line = re.sub(r"\b6379\b", str(port), command.replace("HEAD_IP", "127.0.0.1"))
                    line = line.replace(".venv/bin/", str(Path(sys.executable).parent) + "/")
                    for what, options in extra.items():
                        if what in line:
                            line += options.format(_free_port())
                    if "asyncrl train" in line:
                        run_dir = work / re.search(r"--run-dir (\S+)", line).group(1)
                        deadline = time.monotonic() + 30  # the second node registers after its ray start
                        while _active_nodes(f"127.0.0.1:{port}", {**env, "RAY_AUTH_MODE": "token"}) < 2:
                            assert time.monotonic() < deadline, "the second node did not join"
                            time.sleep(0.5)
                    if "asyncrl train" in line and "RAY_AUTH_MODE=token " in line:
                        # A driver without the mode is refused, and the one-line error says what is missing.
                        bare = line.replace("RAY_AUTH_MODE=token ", "")
                        refused = subprocess.run(["bash", "-c", bare], cwd=work, env=env, capture_output=True,
                                                 text=True, timeout=120, check=False)
                        assert refused.returncode == 2 and "RAY_AUTH_MODE=token" in refused.stderr, refused.stderr
                        assert "Traceback" not in refused.stderr, refused.stderr
                    print(f"$ {line}", file=out, flush=True)
                    rc = subprocess.run(["bash", "-c", f"set -eo pipefail\n{line}"], cwd=work, env=env,
                                        stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False).returncode
                    assert rc == 0, f"{command!r} failed ({rc}):\n" + log.read_text()[-4000:]
        assert not _pids_of(temp_dir), "Ray processes outlived the documented ray stop"
    finally:
        _stop_nodes(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
    assert run_dir is not None, "the documented commands train nothing"
    return json.loads((run_dir / "summary.json").read_text())


@pytest.mark.timeout(300)
def test_the_documented_cluster_commands_work(tmp_path):
    """docs/distributed.md's cluster commands as a new user runs them: token auth, two nodes, a run."""
    sections = _documented_cluster_commands()
    assert [where for where, _ in sections] == ["head", "other", "head", "every"], sections
    summary = run_documented_cluster_commands(sections, tmp_path)
    assert summary["backend"] == "ray" and summary["status"] == "completed", summary
    assert summary["frames"] >= 4000 and summary["learner_nodes"] == 2, summary


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a3c_learns_cartpole_on_two_nodes_and_survives_a_lost_node_group(cluster, tmp_path):
    """Node groups (the default layout): a group killed outright, as when its node is lost, starts
    again on the global theta and the run goes on to learn."""
    run_dir = tmp_path / "run"
    proc = _train(cluster, run_dir, "--algo", "a3c", "--env", "CartPole-v1", "--frames", "300k",
                  "--seed", "1", "--stop-at-return", str(THRESHOLD))
    _kill_one_of_two(proc, run_dir, lambda: _actor_pids("NodeGroup"))
    out, err = _finish(proc, timeout=480)

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["backend"] == "ray" and summary["ray_layout"] == "node-groups"
    assert summary["learner_nodes"] == 2, summary
    assert summary["learner_restarts"] >= 1, summary
    assert "node group was lost" in err + out and "restarted" in err + out
    assert summary["status"] == "return_reached", summary
    returns = _returns(run_dir)
    means = [sum(returns[i - WINDOW : i]) / WINDOW for i in range(WINDOW, len(returns) + 1)]
    assert max(means) >= THRESHOLD
    # Each node exchanged with the service, about --exchange-rate times a second.
    assert 5 <= summary["exchanges_per_node_per_second"] <= 21, summary
    assert summary["bytes_to_service_per_node_per_second"] > 0
    assert 0 < summary["exchange_seconds_p50"] <= summary["exchange_seconds_p99"], summary
    assert not _none_within(lambda: _actor_pids("NodeGroup")), "node groups outlived the run"
    assert not _none_within(_learner_pids), "learners outlived the run"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a3c_learns_cartpole_with_an_actor_per_learner_and_survives_a_killed_learner(cluster, tmp_path):
    run_dir = tmp_path / "run"
    proc = _train(cluster, run_dir, "--algo", "a3c", "--env", "CartPole-v1", "--frames", "300k",
                  "--seed", "1", "--stop-at-return", str(THRESHOLD), "--ray-layout", "per-learner")
    _kill_one_of_two(proc, run_dir, _learner_pids)
    out, err = _finish(proc, timeout=480)

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["backend"] == "ray"
    assert summary["learner_nodes"] == 2, summary
    assert summary["learner_restarts"] >= 1, summary
    assert "died" in err + out and "restarted" in err + out
    assert summary["status"] == "return_reached", summary
    assert summary["bytes_to_server_per_learner_per_second"] > 0
    # The server's CPU per update is measured, and no more than its wall time per update.
    assert 0 < summary["server_cpu_seconds_per_update"] <= summary["server_seconds_per_update"] * 1.01, summary
    assert not _none_within(_learner_pids), "learner actors outlived the run"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_one_step_q_learns_cartpole_on_two_nodes(cluster, tmp_path):
    run_dir = tmp_path / "run"
    _finish(_train(cluster, run_dir, "--algo", "one-step-q", "--env", "CartPole-v1", "--frames", "300k",
                   "--seed", "2", "--stop-at-return", str(THRESHOLD)), timeout=540)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "return_reached", summary
    assert summary["learner_nodes"] == 2, summary


@pytest.mark.timeout(300)
def test_atari_on_the_cluster_lays_out_a_learner_per_cluster_cpu_by_default(cluster, tmp_path):
    """As the local backend does on this machine's cores: here 2 CPUs, so 2 learners of 8 games."""
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "asyncrl", "train", "--backend", "ray", "--address", cluster.address,
           "--env", "ALE/Pong-v5", "--max-seconds", "15", "--run-dir", str(run_dir), "--quiet"]
    _finish(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env),
            timeout=240)
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["run"]["workers"], config["run"]["envs_per_worker"]) == (2, 8)
    assert config["env"]["vector_env"] is True
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "time_limit" and summary["learner_nodes"] == 2 and summary["frames"] > 0


@pytest.mark.timeout(300)
def test_observation_and_return_statistics_reach_the_parameter_server(cluster, tmp_path):
    run_dir = tmp_path / "run"
    _finish(_train(cluster, run_dir, "--env", "Pendulum-v1", "--frames", "4000", "--obs-norm", "--reward-norm"),
            timeout=240)
    model = torch.load(run_dir / "checkpoint.pt", weights_only=True)["model"]
    # The steps' observations and discounted returns were folded in on the server, where they are
    # saved. Concurrent pushes merge them lock-free, as the shared memory of the local backend does,
    # so an update racing another can be lost (2 % of 4,000 steps in one run): most, not all, count.
    summary = json.loads((run_dir / "summary.json").read_text())
    for stats in ("obs_norm", "reward_norm"):
        assert 0.9 * summary["frames"] <= model[f"{stats}.count"].item() <= summary["frames"]
    assert model["reward_norm.var"].item() > 1.0  # Pendulum's returns spread over tens, not ones


def _checkpoint_frames(run_dir) -> int:
    try:
        return torch.load(run_dir / "checkpoint.pt", weights_only=True)["frames"]
    except (OSError, RuntimeError, EOFError, KeyError):  # not there yet, or replaced while read
        return 0


@pytest.mark.timeout(300)
@pytest.mark.parametrize("layout,actor,algo", [("node-groups", "ParameterShard", "a3c"),
                                               ("per-learner", "ParameterServer", "n-step-q")])
def test_a_lost_parameter_server_fails_the_run_and_resume_continues_from_its_checkpoint(cluster, tmp_path,
                                                                                        layout, actor, algo):
    """The resumed run goes on from the saved frames on the same cluster, which its config.json
    names. The per-learner case trains a Q method, so its resume reads theta- from the checkpoint too."""
    run_dir = tmp_path / "run"
    proc = _train(cluster, run_dir, "--algo", algo, "--env", "CartPole-v1", "--frames", "5M",
                  "--checkpoint-interval", "2", "--ray-layout", layout, "--ray-shards", "2")
    try:
        _wait_for_episodes(proc, run_dir, 5)
        deadline = time.monotonic() + 60
        while _checkpoint_frames(run_dir) == 0:  # the first checkpoints may predate any training
            assert time.monotonic() < deadline and proc.poll() is None, "no checkpoint with frames was written"
            time.sleep(0.5)
        server = _actor_pids(actor)[-1]
        os.kill(server, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 1, (out[-2000:], err[-2000:])
    lost = "the parameter server was lost" if layout == "per-learner" else "a parameter-service shard was lost"
    assert lost in err and "--resume" in err, err[-2000:]
    assert "Traceback" not in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed"
    saved = _checkpoint_frames(run_dir)
    assert saved > 0
    assert not _none_within(lambda: _learner_pids() + _actor_pids("NodeGroup")), "learners outlived the run"

    _finish(_train(cluster, run_dir, "--resume", "--frames", str(saved + 10_000)), timeout=240)
    resumed = json.loads((run_dir / "summary.json").read_text())
    assert resumed["status"] == "completed"
    assert resumed["frames"] >= saved + 10_000 and resumed["episodes"] > summary["episodes"]
    assert json.loads((run_dir / "config.json").read_text())["run"]["address"] == cluster.address


def test_an_address_where_no_cluster_answers_is_a_clear_error(cli):
    result = cli("train", "--env", "CartPole-v1", "--backend", "ray", "--address", f"127.0.0.1:{_free_port()}")
    assert_one_line_error(result, "no Ray cluster answers at --address")


def test_address_without_the_ray_backend_is_a_clear_error(cli):
    result = cli("train", "--env", "CartPole-v1", "--address", "auto")
    assert_one_line_error(result, "--address", "--backend ray")


def test_the_local_backend_never_imports_ray(tmp_path):
    code = ("import sys, asyncrl\n"
            "from asyncrl import EnvConfig, RunConfig, TrainConfig\n"
            "if __name__ == '__main__':\n"
            "    asyncrl.train(TrainConfig(env=EnvConfig(env_id='CartPole-v1'), run=RunConfig(workers=1, "
            f"frames=500, run_dir={str(tmp_path / 'run')!r})), progress=False)\n"
            "    assert 'ray' not in sys.modules, 'ray was imported'\n")
    script = tmp_path / "local_run.py"
    script.write_text(code)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.timeout(300)
def test_a_hung_learner_actor_is_restarted_like_a_dead_one(tmp_path):
    # A Ray instance of the run's own (no --address): its workers inherit this environment, so the
    # fault reaches them. The first learner to reach step 300 hangs for good.
    run_dir, marker = tmp_path / "run", tmp_path / "fired"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
           "ASYNCRL_FAULT": "hang_once", "ASYNCRL_FAULT_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-m", "asyncrl", "train", "--backend", "ray", "--workers", "2",
                             "--env", "faulty_env:FaultyCartPole-v0", "--frames", "40000", "--hang-seconds", "5",
                             "--quiet", "--run-dir", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    _, err = _finish(proc, timeout=240)
    assert marker.exists(), "the fault never fired"
    assert "hung: no progress for" in err and "restarted" in err and "Traceback" not in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["frames"] >= 40_000
    assert summary["learner_restarts"] == 1 and summary["learner_restart_causes"][0].startswith("hung")


def test_node_groups_spread_a_run_over_the_nodes_and_never_overfill_one():
    from asyncrl.backends.ray_groups import place

    assert place(2, {"a": 1, "b": 1}, threads=1) == {"a": [0], "b": [1]}
    assert place(4, {"a": 4, "b": 2}, threads=1) == {"a": [0, 1, 2], "b": [3]}  # the most free CPUs first
    assert place(2, {"a": 16, "b": 16, "c": 16}, threads=1) == {"a": [0], "b": [1]}  # nodes with none left out
    assert place(4, {"a": 4, "b": 4}, threads=2) == {"a": [0, 2], "b": [1, 3]}
    with pytest.raises(ValueError):
        place(3, {"a": 1, "b": 1}, threads=1)
