"""bench/ps_load.py: synthetic learners against today's parameter server, end to end on a small network."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

SCRIPT = Path(__file__).parent.parent / "bench" / "ps_load.py"


def test_a_short_sweep_writes_every_field(tmp_path):
    out = tmp_path / "ps_load.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--params", "10000", "--clients", "2", "--rates", "20", "40",
                             "--seconds", "2", "--warmup", "2", "--json", str(out)],
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| offered /s | achieved /s |" in result.stdout
    data = json.loads(out.read_text())
    assert data["target"] == "push" and data["clients"] == 2 and data["max_in_flight"] >= 1
    assert abs(data["params"] - 10_000) < 500 and data["bytes_each_way"] == 4 * data["params"]
    assert "ps_load.py" in " ".join(data["command"])
    for key in ("cores", "cpu", "python", "ray", "torch"):
        assert data["machine"][key]
    assert [row["offered"] for row in data["table"]] == [20, 40]
    for row in data["table"]:
        assert 0 < row["achieved"] <= row["offered"]
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert 0 < row["cpu_in_call_ms"] and 0 < row["cpu_process_ms"] and row["per_core_rate"] > 0
    for rows in data["runs"].values():
        for run in rows:
            assert run["server_calls_in_window"] > 0 and run["sent"] > 0
            assert run["achieved"] <= run["offered"]


def test_the_sharded_exchange_is_measured_with_the_nodes_own_cost(tmp_path):
    out = tmp_path / "exchange.json"
    transport = "tcp"
    result = subprocess.run([sys.executable, str(SCRIPT), "--target", "exchange", "--shards", "2", "--dtype", "bf16",
                             "--params", "10000", "--clients", "2", "--rates", "20", "--seconds", "2", "--warmup", "2",
                             "--json", str(out)], capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "exchanges/s per core" in result.stdout and "the node's exchanger, CPU per exchange" in result.stdout
    data = json.loads(out.read_text())
    assert (data["target"], data["shards"], data["dtype"], data["transport"], data["max_in_flight"]) == (
        "exchange", 2, "bf16", transport, 1)
    (row,) = data["table"]
    assert 0 < row["achieved"] <= 20 and 0 < row["p50_ms"] <= row["p99_ms"]
    assert row["cpu_process_ms"] > 0 and row["client_cpu_ms"] > 0
    for run in data["runs"]["20.0"]:
        assert run["server_calls_in_window"] > 0  # every exchange reached both shards: counted once


def test_the_exchange_is_measured_across_nodes_of_a_loopback_cluster(tmp_path):
    """--nodes 2: a head with the shard and a second node with the clients, started with ray start;
    the exchange as Ray actor calls, whose arguments and replies cross between the nodes' object stores."""
    out = tmp_path / "nodes.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--target", "exchange", "--nodes", "2", "--params", "10000",
                             "--transport", "ray", "--clients", "2", "--rates", "20", "--seconds", "2",
                             "--warmup", "2", "--json", str(out)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    assert (data["nodes"], data["transport"]) == (2, "ray")
    (row,) = data["table"]
    assert 0 < row["achieved"] <= 20 and row["cpu_process_ms"] > 0
