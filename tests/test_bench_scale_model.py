"""bench/scale_model.py: the model's arithmetic on hand-checked cases, its monotonicity, its inputs, its CLI."""

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import bench_module

SCRIPT = Path(__file__).parent.parent / "bench" / "scale_model.py"


sm = bench_module("scale_model")

# Round numbers: 4 MB messages, 5 ms of server CPU per push, 20 updates/s per learner, a link of
# exactly 1e9 B/s, no protocol overhead and no network latency.
HAND = {"params": 1_000_000, "push_cpu_ms": 5.0, "single_node_fps": 3_200, "frames_per_update": 160,
        "efficiency": 1.0, "rtt_ms": 0.0}


def test_md1_wait_is_the_textbook_formula():
    assert sm.md1_wait(0.5, 0.010) == pytest.approx(0.5 * 0.010 / (2 * 0.5))  # 5 ms
    assert sm.md1_wait(0.0, 0.010) == 0.0
    assert math.isinf(sm.md1_wait(1.0, 0.010)) and math.isinf(sm.md1_wait(1.5, 0.010))


def test_per_learner_one_shard_by_hand():
    x = sm.Inputs(**HAND)
    assert x.u1 == pytest.approx(20.0)
    row = sm.model("per-learner", x, nodes=2, per_node=4, link=1e9, shards=1)
    # 8 learners x 20 pushes/s = 160 calls/s; 5 ms each: 80 % of one core, M/D/1 wait 0.8 * 5 / (2 * 0.2) = 10 ms
    assert row["calls_per_client_per_s"] == pytest.approx(20.0)  # nothing holds them back
    assert row["calls_per_shard_per_s"] == pytest.approx(160.0)
    assert row["shard_cpu_busy"] == pytest.approx(0.8)
    assert row["shard_wait_s"] == pytest.approx(0.010)
    # a node's link: 4 learners x 20 x 4 MB = 320 MB/s of 1 GB/s; the shard's: 160 x 4 MB = 640 MB/s
    assert row["node_link_bytes_per_s"] == pytest.approx(320e6)
    assert row["shard_link_bytes_per_s"] == pytest.approx(640e6)
    assert row["node_link_busy"] == pytest.approx(0.32) and row["shard_link_busy"] == pytest.approx(0.64)
    # round trip: 2 x (node link wait + 4 ms) + 2 x (shard link wait + 4 ms) + 10 ms wait + 5 ms service
    node_wait, shard_wait = 0.32 * 0.004 / (2 * 0.68), 0.64 * 0.004 / (2 * 0.36)
    round_trip = 2 * (node_wait + 0.004) + 2 * (shard_wait + 0.004) + 0.010 + 0.005
    assert row["round_trip_s"] == pytest.approx(round_trip)
    # staleness: n + n u (R + 1 / 2u)
    assert row["staleness_updates"] == pytest.approx(8 + 8 * 20 * (round_trip + 0.025))
    assert row["learner_rate_fraction"] == pytest.approx(1.0)
    assert not row["meets_targets"] and not row["meets_busy"] and row["meets_rate"]  # the shard at 80 %


def test_per_learner_two_shards_split_bytes_and_cpu_and_add_the_fixed_overhead():
    x = sm.Inputs(**HAND, shard_call_overhead_ms=0.5)
    row = sm.model("per-learner", x, nodes=2, per_node=4, link=1e9, shards=2)
    assert row["calls_per_shard_per_s"] == pytest.approx(160.0)  # every push visits every shard
    assert row["shard_link_bytes_per_s"] == pytest.approx(320e6)
    assert row["shard_cpu_busy"] == pytest.approx(160 * (0.0025 + 0.0005))
    assert row["node_link_bytes_per_s"] == pytest.approx(320e6)  # the node sends the same bytes


def test_node_groups_by_hand():
    x = sm.Inputs(**HAND, exchanges=10.0, delta_bytes=2, exchanger_cpu_ms=8.0, cores_per_node=4)
    row = sm.model("node-groups", x, nodes=4, per_node=4, link=1e9, shards=1)
    # 4 exchangers x 10/s = 40 calls/s, 2 MB each way (bf16), 5 ms x 2/4 = 2.5 ms each: 10 % busy
    assert row["calls_per_shard_per_s"] == pytest.approx(40.0)
    assert row["shard_link_bytes_per_s"] == pytest.approx(80e6)
    assert row["node_link_bytes_per_s"] == pytest.approx(20e6)
    assert row["shard_cpu_busy"] == pytest.approx(0.1)
    assert row["shard_wait_s"] == pytest.approx(0.1 * 0.0025 / (2 * 0.9))
    # the exchanger takes 10 x 8 ms = 0.08 of the node's 4 cores' 4: 2 %
    assert row["learner_rate_fraction"] == pytest.approx(0.98)
    # staleness: n + (n - L) u (1 / E + R)
    u = 20 * 0.98
    assert row["staleness_updates"] == pytest.approx(16 + 12 * u * (0.1 + row["round_trip_s"]))
    assert row["meets_targets"]


def test_measured_exchange_costs_replace_the_bytes_assumption_for_their_shard_counts(tmp_path):
    files = []
    for shards, dtype, cost in [(1, "fp32", 3.0), (2, "fp32", 5.0), (1, "bf16", 4.0)]:
        path = tmp_path / f"s{shards}{dtype}.json"
        path.write_text(json.dumps({"target": "exchange", "shards": shards, "dtype": dtype, "params": 1_000_000,
                                    "table": [{"offered": 50, "achieved": 50.0, "cpu_process_ms": cost}]}))
        files.append(path)
    costs, params = sm.exchange_costs(files, "max-rate", delta_bytes=4)
    assert costs == {1: 3.0, 2: 2.5} and params == 1_000_000  # the whole service's CPU over S shards, per shard
    x = sm.Inputs(**HAND, exchanges=10.0, exchange_cpu_ms=costs)
    two = sm.model("node-groups", x, nodes=4, per_node=4, link=1e9, shards=2)
    assert two["shard_cpu_busy"] == pytest.approx(40 * 2.5e-3)  # measured, not 5 ms x 4/4 / 2
    four = sm.model("node-groups", x, nodes=4, per_node=4, link=1e9, shards=4)
    assert four["shard_cpu_busy"] == pytest.approx(40 * 5e-3 / 4)  # none measured at S = 4: A2
    with pytest.raises(ValueError):
        sm.exchange_costs([tmp_path / "s1fp32.json", _push_file(tmp_path)], "max-rate", 4)


def _push_file(tmp_path):
    path = tmp_path / "push.json"
    path.write_text(json.dumps({"target": "push", "params": 1, "table": []}))
    return path


def test_a_long_round_trip_limits_a_learner_to_its_window_over_the_round_trip():
    x = sm.Inputs(**{**HAND, "rtt_ms": 200.0}, in_flight=1)
    row = sm.model("per-learner", x, nodes=1, per_node=1, link=1e9, shards=1)
    u = row["calls_per_client_per_s"]
    assert u < 5.0  # at most 1 / 0.2 s
    assert u * row["round_trip_s"] == pytest.approx(1.0, rel=1e-6)
    assert row["learner_rate_fraction"] == pytest.approx(u / 20)


def test_a_saturated_server_holds_the_learners_to_its_capacity():
    x = sm.Inputs(**HAND)  # 64 learners want 1,280 pushes/s; one core serves 200
    row = sm.model("per-learner", x, nodes=8, per_node=8, link=1e9, shards=1)
    assert row["demand_busiest"] == pytest.approx(1280 * 0.005)
    assert row["shard_cpu_busy"] < 1.0 and row["calls_per_shard_per_s"] < 200
    assert row["learner_rate_fraction"] < 200 / 1280
    assert not row["meets_rate"] and not row["meets_busy"]


@pytest.mark.parametrize("design", ["per-learner", "node-groups"])
def test_more_shards_and_faster_links_lower_the_load(design):
    x = sm.Inputs()
    rate = 1.0  # the same calls per client everywhere (every station below 100 %), so only capacities differ
    by_shards = [sm.stations(design, x, 8, 16, 10 * sm.GBIT, s, rate) for s in (1, 2, 4)]
    for fewer, more in itertools.pairwise(by_shards):
        assert more["shard_cpu_busy"] < fewer["shard_cpu_busy"]
        assert more["shard_link_busy"] < fewer["shard_link_busy"]
        assert more["shard_wait_s"] <= fewer["shard_wait_s"]
    slow, fast = (sm.stations(design, x, 8, 16, g * sm.GBIT, 2, rate) for g in (10, 25))
    assert fast["node_link_busy"] < slow["node_link_busy"] and fast["shard_link_busy"] < slow["shard_link_busy"]
    assert fast["round_trip_s"] < slow["round_trip_s"]
    # and through the whole model: never slower with more shards or a faster link
    rows = [sm.model(design, x, 16, 16, g * sm.GBIT, s) for g in (10, 25) for s in (1, 2, 4)]
    for a, b in itertools.pairwise(rows[:3]):
        assert b["learner_rate_fraction"] >= a["learner_rate_fraction"]
        assert b["demand_busiest"] < a["demand_busiest"]
    for slow_row, fast_row in zip(rows[:3], rows[3:]):
        assert fast_row["learner_rate_fraction"] >= slow_row["learner_rate_fraction"]
        assert max(fast_row["node_link_busy"], fast_row["shard_link_busy"]) <= max(
            slow_row["node_link_busy"], slow_row["shard_link_busy"])


def test_measured_inputs_are_read_from_ps_load_and_throughput_files():
    ps_load = {"params": 1000, "table": [
        {"offered": 10, "achieved": 10.0, "cpu_process_ms": 6.0},
        {"offered": 100, "achieved": 80.0, "cpu_process_ms": 5.0},
        {"offered": 200, "achieved": 50.0, "cpu_process_ms": 4.0}]}  # under half its offered rate: not busy
    assert sm.push_cost_from_ps_load(ps_load, "max-rate") == 5.0
    assert sm.push_cost_from_ps_load(ps_load, "median") == 5.5
    throughput = {"runs": [
        {"algo": "a3c", "workers": 2, "steady_fps": 1000},
        {"algo": "a3c", "workers": 4, "steady_fps": 2400},
        {"algo": "a3c", "workers": 4, "steady_fps": 2000},
        {"algo": "a3c --backend ray", "workers": 4, "steady_fps": 100}]}
    assert sm.fps_from_throughput(throughput) == pytest.approx(550.0)
    assert sm.fps_from_throughput(throughput, workers=2) == pytest.approx(500.0)
    with pytest.raises(ValueError):
        sm.fps_from_throughput(throughput, workers=8)


def test_the_cli_runs_end_to_end_on_measured_files(tmp_path):
    ps_load = tmp_path / "ps_load.json"
    ps_load.write_text(json.dumps({"params": 677_943, "table": [
        {"offered": 100, "achieved": 99.8, "cpu_process_ms": 4.71},
        {"offered": 150, "achieved": 121.8, "cpu_process_ms": 4.86}]}))
    throughput = tmp_path / "throughput.json"
    throughput.write_text(json.dumps({"runs": [{"algo": "a3c", "workers": 2, "steady_fps": 11_138}]}))
    out = tmp_path / "model.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--clusters", "8x8", "16x16", "--links", "10",
                             "--ps-load", str(ps_load), "--throughput", str(throughput), "--json", str(out)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "| design | nodes × learners |" in result.stdout
    data = json.loads(out.read_text())
    assert data["inputs"]["push_cpu_ms"] == 4.86 and data["inputs"]["params"] == 677_943
    assert data["inputs"]["single_node_fps"] == pytest.approx(5_569)
    assert str(ps_load) in data["sources"]["push_cpu_ms"]
    rows = data["rows"]
    assert len(rows) == 2 * 2 * 3  # designs x clusters x shards
    assert {(r["nodes"], r["learners_per_node"]) for r in rows} == {(8, 8), (16, 16)}
    for r in rows:
        assert 0 < r["learner_rate_fraction"] <= 1 and r["shard_cpu_busy"] > 0
    # the first target case with four shards: the node groups meet it, today's design does not
    four = {r["design"]: r for r in rows if r["nodes"] == 8 and r["shards"] == 4}
    assert four["node-groups"]["meets_targets"] and not four["per-learner"]["meets_targets"]


def test_the_cli_refuses_a_malformed_cluster():
    result = subprocess.run([sys.executable, str(SCRIPT), "--clusters", "8by8"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "NODESxLEARNERS" in result.stderr
