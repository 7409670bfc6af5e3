"""A model of the Ray backend at scale, fed with measured costs: links, shards, queues, staleness, rate.

Nothing here runs Ray or trains: it is arithmetic on measured costs (``bench/ps_load.py``: the
parameter server's CPU per push; ``bench/throughput.py`` or docs/results.md: a learner's frames/s on
one node) for a cluster of N nodes with L learners each, n = N L learners, on links of B bytes/s, with
the parameter service split over S shards. Two designs:

  per-learner   today's: every learner segment is one ``push``: its gradient up (4P bytes, fp32) and
                theta down (4P bytes), S calls of 4P/S bytes each way when theta is split over S shards.
  node-groups   the plan of issue 53: the L learners of a node share theta in memory as the local
                backend does; one exchanger per node trades with the shards E times a second,
                asynchronously: the change of the node's theta since its last exchange up, the global
                change down, P b bytes each way (b = ``--delta-bytes``: 4 fp32, 2 bf16).

Inputs (each a flag; the defaults and where they come from)
  P    parameters: 677,943, the Atari A3C network (docs/distributed.md); ``--ps-load`` takes the
       file's ``params``.
  f1   a learner's frames/s on one node, the local backend: 11,138 frames/s for the default command's
       2 learners on 2 cores (docs/results.md, "Speed against SB3 A2C", median of 3) -> 5,569 per
       learner; ``--throughput FILE`` takes the median of steady_fps / workers over the file's local
       (not ``--backend ray``) runs at its largest worker count (or ``--throughput-workers``).
  F    frames per update: envs per learner x t_max x action repeat = 8 x 5 x 4 = 160 (the default
       command on 2 cores: 16 / 2 environments per learner, t_max 5, frameskip 4; docs/defaults.md).
       u1 = f1 / F updates/s per learner (34.8 by default).
  c    server CPU per push of 4P bytes each way, whole server process: 4.86 ms, docs/distributed.md's
       ``bench/ps_load.py`` table at its highest achieved rate (121.8 pushes/s; 4.7-5 ms at load).
       ``--ps-load FILE`` reads a ``bench/ps_load.py --json`` file: ``cpu_process_ms`` of the row with
       the highest ``achieved`` rate (``--ps-cost max-rate``, the default: the busiest server, where its
       fixed per-second work is spread over the most calls, as it would be at scale) or the median over
       the rows that achieved at least half their offered rate (``--ps-cost median``, as ps_load prints).
       ``--params`` other than the P the cost was measured at scales c by the ratio (assumption A2).
  o    a fixed CPU cost per call per shard (``--shard-call-overhead-ms``, default 0; Ray's own share of
       c, 2.4 ms of the 4.86, is the pessimistic bound: it would not shrink with the shard's bytes).
  k    server cores per shard (``--shard-cores``, default 1).
  B    link capacity, bytes/s each way (full duplex): 10 GbE 1.25e9, 25 GbE 3.125e9 (``--links`` in
       Gbit/s), times a protocol efficiency eta (``--efficiency``, default 0.9).
  E    exchanges per node per second (``--exchanges``, default 20); the exchanger keeps at most
       ``--exchange-window`` (default 1) exchanges open; a learner keeps at most ``--in-flight``
       (default 2, ``RayShared.MAX_IN_FLIGHT``) pushes open.
  c_x  the exchanger's CPU per exchange on its node (``--exchanger-cpu-ms``, default c: the push's
       cost), taken from the node's ``--cores-per-node`` (default L, a learner per core).
  c_l  a learner's own CPU per push (``--learner-call-cpu-ms``, default 0: not measured yet).
  rtt  network round trip without queueing (``--rtt-ms``, default 0.1 ms).

Formulas (per-learner design unless said)
  message on a shard's link      m_s = 4P / S                   (node-groups: P b / S)
  message on a node's link       m_n = 4P                       (node-groups: P b)
  calls each shard receives      lambda = n u                   (node-groups: N e)
       where u is the achieved updates/s per learner, e the achieved exchanges/s per node
  shard CPU per call             s = (c / S + o) / k            (node-groups: (c b / 4) / S + o, / k;
                                                                 assumption A2)
  bytes/s on a node's link       L u m_n each way               (node-groups: e m_n)
  bytes/s on a shard's link      lambda m_s each way
  utilisation                    rho = arrivals x service time: shard CPU lambda s; a link its bytes/s
                                 over eta B
  queueing delay (M/D/1)         W = rho / (2 mu (1 - rho)) with mu = 1 / service time, inf if rho >= 1
                                 (each link direction and each shard's CPU is one such station, A4)
  round trip                     R = rtt + 2 (W_n + m_n / eta B) + 2 (W_s + m_s / eta B) + W_cpu + s
  achieved rate                  u = min(u_w, w / R(u)): a client wanting u_w calls/s with at most w
                                 open gets w / R when the round trip is long (Little's law); the
                                 largest u <= u_w with u R(u) <= w, by bisection. u_w = 1 / (1/u1 + c_l).
  learner rate, per-learner      u / u1 (the learner waits only for its window of replies)
  learner rate, node-groups      1 - E c_x / cores per node (the exchanger never makes a learner wait;
                                 it only takes CPU), at the wanted E whatever e the shards allow
  staleness                      tau = updates to theta, cluster-wide, made between the theta a learner
                                 acts on and the moment its gradient lands, counted in updates:
                                 tau = n + n_far u D. The n: every learner acts a segment (1/u) on its
                                 copy while the n learners make n u / u updates (one node of L learners:
                                 tau = L). n_far u D: the updates still on their way to it, D the time an
                                 update takes to reach another learner's theta.
                                 per-learner: n_far = n, D = R + 1 / (2u) (up, applied, the other
                                 learner's next reply half a segment later on average, down).
                                 node-groups: n_far = n - L (its own node's reach it at once),
                                 D = 1 / e + R (half an exchange interval at each of the two nodes).
  targets (issue 53)             every link and shard <= 70 % busy and the learner rate >= 90 %.
  Every load, delay and staleness is at the achieved rate (u, or e); "demand" is the busiest station's
  rho at the wanted rate (u_w, or E), over 100 % where the clients want more than it can serve.

Assumptions (named; each has a flag above where it is a number)
  A1  a node's L learners each run at the single-node rate f1 (one per core; a 16-learner Hogwild
      group's memory contention is not modelled).
  A2  without ``--exchange-load``: the server's CPU per call scales with the bytes it handles (plus
      o): a shard holding P / S parameters costs c / S per push, and a node-groups exchange costs what
      a push of the same bytes costs. Measured (``bench/ps_load.py --target exchange``, docs/
      distributed.md), it does not: Ray's share of a call is about 1.7 ms per shard whatever its
      bytes, so pass the measured files with ``--exchange-load`` for node-groups.
  A3  shards run on S nodes of their own (besides the N learner nodes), one shard each, so a shard's
      link carries only its shard's traffic; a shard's k cores act as one server k times as fast.
  A4  stations are independent M/D/1 queues with Poisson arrivals (Kleinrock's independence); the
      real arrivals are smoother, so the delays are upper-ish estimates. A push over S shards takes as
      long as one shard's part (the shards are symmetric; the slowest of S is not modelled).

    python bench/scale_model.py                                   # 8/16/32 nodes x 16, 10 and 25 GbE, S 1/2/4
    python bench/scale_model.py --clusters 8x8 16x16 --links 10   # the issue's targets: 64 and 256 learners
    python bench/scale_model.py --ps-load ps_load.json --throughput throughput.json --json model.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

PARAMS = 677_943  # the Atari A3C network (docs/distributed.md)
SINGLE_NODE_FPS = 11_138 / 2  # docs/results.md: the default command, 2 learners on 2 cores
FRAMES_PER_UPDATE = 8 * 5 * 4  # 16 / 2 envs per learner x t_max 5 x action repeat 4
PUSH_CPU_MS = 4.86  # docs/distributed.md, bench/ps_load.py: process CPU per push at 121.8 pushes/s
GBIT = 1e9 / 8  # bytes/s per Gbit/s
BUSY_TARGET, RATE_TARGET = 0.70, 0.90  # issue 53


@dataclass
class Inputs:
    params: int = PARAMS
    single_node_fps: float = SINGLE_NODE_FPS
    frames_per_update: float = FRAMES_PER_UPDATE
    push_cpu_ms: float = PUSH_CPU_MS
    shard_call_overhead_ms: float = 0.0
    shard_cores: float = 1.0
    efficiency: float = 0.9
    exchanges: float = 20.0
    exchange_window: int = 1
    in_flight: int = 2
    delta_bytes: int = 4
    exchanger_cpu_ms: float | None = None  # None: push_cpu_ms
    # Measured (bench/ps_load.py --target exchange): shards -> one shard's CPU per exchange, ms, for
    # this delta_bytes; where a shard count has none, A2 estimates it from the push's.
    exchange_cpu_ms: dict[int, float] | None = None
    cores_per_node: float | None = None  # None: learners per node
    learner_call_cpu_ms: float = 0.0
    rtt_ms: float = 0.1

    @property
    def u1(self) -> float:
        """A learner's updates/s on one node."""
        return self.single_node_fps / self.frames_per_update


def md1_wait(rho: float, service: float) -> float:
    """M/D/1 mean wait in queue: rho / (2 mu (1 - rho)), mu = 1 / service; inf when rho >= 1."""
    if rho >= 1.0:
        return math.inf
    return rho * service / (2.0 * (1.0 - rho))


def stations(design: str, x: Inputs, nodes: int, per_node: int, link: float, shards: int, rate: float) -> dict:
    """Every station's load when each client makes ``rate`` calls/s: a learner (per-learner) or a
    node's exchanger (node-groups). Returns bytes/s, utilisations, waits and the round trip."""
    capacity = x.efficiency * link
    c = x.push_cpu_ms / 1e3
    if design == "per-learner":
        node_msg, clients_per_node = 4.0 * x.params, per_node
        cpu_per_call = c / shards
    else:
        node_msg, clients_per_node = float(x.delta_bytes * x.params), 1
        if x.exchange_cpu_ms and shards in x.exchange_cpu_ms:
            cpu_per_call = x.exchange_cpu_ms[shards] / 1e3
        else:
            cpu_per_call = c * x.delta_bytes / 4.0 / shards  # A2: cost in proportion to the bytes handled
    shard_msg = node_msg / shards
    calls_per_shard = nodes * clients_per_node * rate  # every call visits every shard
    service = {"node link": node_msg / capacity, "shard link": shard_msg / capacity,
               "shard CPU": (cpu_per_call + x.shard_call_overhead_ms / 1e3) / x.shard_cores}
    arrivals = {"node link": clients_per_node * rate, "shard link": calls_per_shard, "shard CPU": calls_per_shard}
    rho = {k: arrivals[k] * service[k] for k in service}
    wait = {k: md1_wait(rho[k], service[k]) for k in service}
    legs = {k: wait[k] + service[k] for k in service}
    round_trip = x.rtt_ms / 1e3 + 2 * legs["node link"] + 2 * legs["shard link"] + legs["shard CPU"]
    return {"node_link_bytes_per_s": clients_per_node * rate * node_msg,
            "shard_link_bytes_per_s": calls_per_shard * shard_msg,
            "calls_per_shard_per_s": calls_per_shard,
            "node_link_busy": rho["node link"], "shard_link_busy": rho["shard link"],
            "shard_cpu_busy": rho["shard CPU"],
            "shard_wait_s": wait["shard CPU"], "link_wait_s": wait["node link"] + wait["shard link"],
            "round_trip_s": round_trip}


def achieved_rate(wanted: float, window: int, load) -> float:
    """The largest u <= wanted with u R(u) <= window: a client with at most ``window`` calls open
    gets no more than window / R calls/s (Little's law). ``load(u)`` gives R at rate u."""
    if wanted * load(wanted)["round_trip_s"] <= window:
        return wanted
    lo, hi = 0.0, wanted
    for _ in range(60):
        mid = (lo + hi) / 2
        if mid * load(mid)["round_trip_s"] <= window:
            lo = mid
        else:
            hi = mid
    return lo


def model(design: str, x: Inputs, nodes: int, per_node: int, link: float, shards: int) -> dict:
    """One row: the design on ``nodes`` x ``per_node`` learners, links of ``link`` bytes/s, S shards."""
    n = nodes * per_node
    cores = x.cores_per_node or per_node

    def load(rate: float) -> dict:
        return stations(design, x, nodes, per_node, link, shards, rate)

    if design == "per-learner":
        wanted = 1.0 / (1.0 / x.u1 + x.learner_call_cpu_ms / 1e3)
        u = achieved_rate(wanted, x.in_flight, load)
        at = load(u)
        rate_fraction = u / x.u1
        delay = at["round_trip_s"] + 0.5 / u if u > 0 else math.inf
        staleness = n + n * u * delay
        calls, wanted_calls = u, wanted
    else:
        exchanger_cpu = (x.push_cpu_ms if x.exchanger_cpu_ms is None else x.exchanger_cpu_ms) / 1e3
        rate_fraction = max(0.0, 1.0 - x.exchanges * exchanger_cpu / cores)
        u = x.u1 * rate_fraction
        e = achieved_rate(x.exchanges, x.exchange_window, load)
        at = load(e)
        delay = 1.0 / e + at["round_trip_s"] if e > 0 else math.inf
        staleness = n + (n - per_node) * u * delay
        calls, wanted_calls = e, x.exchanges
    demand = load(wanted_calls)  # every station's load if nothing held the clients back
    busy = max(at["node_link_busy"], at["shard_link_busy"], at["shard_cpu_busy"])
    return {"design": design, "nodes": nodes, "learners_per_node": per_node, "learners": n,
            "link_gbit": link / GBIT, "shards": shards,
            "calls_per_client_per_s": calls, "wanted_calls_per_client_per_s": wanted_calls,
            **at, "busiest": busy,
            "demand_busiest": max(demand["node_link_busy"], demand["shard_link_busy"], demand["shard_cpu_busy"]),
            "update_delay_s": delay, "staleness_updates": staleness, "single_node_staleness": per_node,
            "learner_rate_fraction": rate_fraction, "learner_fps": rate_fraction * x.single_node_fps,
            "meets_busy": busy <= BUSY_TARGET, "meets_rate": rate_fraction >= RATE_TARGET,
            "meets_targets": busy <= BUSY_TARGET and rate_fraction >= RATE_TARGET}


# --- measured inputs ------------------------------------------------------------------------------

def push_cost_from_ps_load(data: dict, how: str = "max-rate") -> float:
    """Server CPU per push (ms, whole process) from a ``bench/ps_load.py --json`` file: the row with the
    highest achieved rate, or the median over the rows that achieved at least half their offered rate."""
    rows = [r for r in data["table"] if r.get("cpu_process_ms")]
    if not rows:
        raise ValueError("the ps_load file has no row with a server CPU per call")
    if how == "max-rate":
        return float(max(rows, key=lambda r: r["achieved"])["cpu_process_ms"])
    busy = [r for r in rows if r["achieved"] >= 0.5 * r["offered"]] or rows
    return float(statistics.median(r["cpu_process_ms"] for r in busy))


def exchange_costs(files: list[Path], how: str, delta_bytes: int) -> tuple[dict[int, float], int]:
    """shards -> one shard's CPU per exchange (ms) from ``bench/ps_load.py --target exchange --json``
    files of the matching dtype: the whole service's process CPU per exchange over S shards, / S."""
    costs, params = {}, None
    for path in files:
        data = json.loads(path.read_text())
        if data.get("target") != "exchange":
            raise ValueError(f"{path}: not a ps_load --target exchange file")
        if (2 if data["dtype"] == "bf16" else 4) != delta_bytes:
            continue
        costs[int(data["shards"])] = push_cost_from_ps_load(data, how) / int(data["shards"])
        params = int(data["params"])
    return costs, params


def fps_from_throughput(data: dict, workers: int | None = None) -> float:
    """A learner's frames/s on one node from a ``bench/throughput.py --out`` file: the median of
    steady_fps / workers over its local-backend runs at ``workers`` (default: the largest measured)."""
    runs = [r for r in data["runs"] if "--backend ray" not in r.get("algo", "") and r.get("steady_fps")]
    if not runs:
        raise ValueError("the throughput file has no local-backend run with a steady rate")
    workers = workers or max(r["workers"] for r in runs)
    chosen = [r["steady_fps"] / r["workers"] for r in runs if r["workers"] == workers]
    if not chosen:
        raise ValueError(f"the throughput file has no local-backend run with {workers} workers")
    return float(statistics.median(chosen))


# --- the table ------------------------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return "∞" if math.isinf(seconds) else f"{1e3 * seconds:,.1f}"


def _pct(x: float) -> str:
    return f"{100 * x:,.0f} %"


def markdown(rows: list[dict]) -> str:
    lines = [("| design | nodes × learners | link | shards | MB/s per node link, each way | MB/s per shard link, "
              "each way | worst link busy | shard CPU busy | demand: busiest if unthrottled | shard queueing, ms "
              "| round trip, ms | staleness, updates (one node: L) | learner rate, % of one node | targets |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        verdict = "meets both" if r["meets_targets"] else ", ".join(
            [f"busy > {BUSY_TARGET:.0%}"] * (not r["meets_busy"]) + [f"rate < {RATE_TARGET:.0%}"] * (not r["meets_rate"]))
        stale = "∞" if math.isinf(r["staleness_updates"]) else f"{r['staleness_updates']:,.0f}"
        lines.append(
            f"| {r['design']} | {r['nodes']} × {r['learners_per_node']} | {r['link_gbit']:g} GbE | {r['shards']} "
            f"| {r['node_link_bytes_per_s'] / 1e6:,.0f} | {r['shard_link_bytes_per_s'] / 1e6:,.0f} "
            f"| {_pct(max(r['node_link_busy'], r['shard_link_busy']))} | {_pct(r['shard_cpu_busy'])} "
            f"| {_pct(r['demand_busiest'])} | {_ms(r['shard_wait_s'])} | {_ms(r['round_trip_s'])} "
            f"| {stale} ({r['single_node_staleness']}) | {100 * r['learner_rate_fraction']:.1f} | {verdict} |")
    return "\n".join(lines)


def parse_cluster(text: str) -> tuple[int, int]:
    nodes, _, per_node = text.lower().partition("x")
    try:
        result = int(nodes), int(per_node)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: NODESxLEARNERS, e.g. 8x8") from None
    if min(result) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: nodes and learners must be positive")
    return result


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--design", nargs="+", choices=["per-learner", "node-groups"],
                        default=["per-learner", "node-groups"])
    parser.add_argument("--nodes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--learners-per-node", type=int, nargs="+", default=[16])
    parser.add_argument("--clusters", type=parse_cluster, nargs="+", default=None, metavar="NxL",
                        help="clusters as NODESxLEARNERS_PER_NODE (8x8 16x16), instead of --nodes x --learners-per-node")
    parser.add_argument("--links", type=float, nargs="+", default=[10, 25], help="link speeds, Gbit/s")
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    d = Inputs()
    parser.add_argument("--params", type=int, default=None, help=f"parameters (default {d.params:,}, or the ps_load file's)")
    parser.add_argument("--single-node-fps", type=float, default=None,
                        help=f"a learner's frames/s on one node (default {d.single_node_fps:,.0f}, or --throughput's)")
    parser.add_argument("--frames-per-update", type=float, default=d.frames_per_update,
                        help="envs per learner x t_max x action repeat")
    parser.add_argument("--push-cpu-ms", type=float, default=None,
                        help=f"server CPU per push of 4P bytes each way (default {d.push_cpu_ms}, or --ps-load's)")
    parser.add_argument("--shard-call-overhead-ms", type=float, default=d.shard_call_overhead_ms,
                        help="fixed server CPU per call per shard, on top of its share of the push's")
    parser.add_argument("--shard-cores", type=float, default=d.shard_cores)
    parser.add_argument("--efficiency", type=float, default=d.efficiency, help="usable fraction of a link's bits")
    parser.add_argument("--exchanges", type=float, default=d.exchanges, help="node-groups: exchanges per node per s")
    parser.add_argument("--exchange-window", type=int, default=d.exchange_window,
                        help="node-groups: exchanges open at once per node")
    parser.add_argument("--in-flight", type=int, default=d.in_flight, help="per-learner: pushes open per learner")
    parser.add_argument("--delta-bytes", type=int, choices=[2, 4], default=d.delta_bytes,
                        help="node-groups: bytes per parameter exchanged (4 fp32, 2 bf16)")
    parser.add_argument("--exchanger-cpu-ms", type=float, default=None,
                        help="node-groups: node CPU per exchange (default: the push CPU cost)")
    parser.add_argument("--cores-per-node", type=float, default=None, help="default: learners per node")
    parser.add_argument("--learner-call-cpu-ms", type=float, default=d.learner_call_cpu_ms,
                        help="per-learner: a learner's own CPU per push (not measured; 0)")
    parser.add_argument("--rtt-ms", type=float, default=d.rtt_ms, help="network round trip without queueing")
    parser.add_argument("--ps-load", type=Path, default=None, help="a bench/ps_load.py --json file: the push CPU cost")
    parser.add_argument("--ps-cost", choices=["max-rate", "median"], default="max-rate",
                        help="which ps_load row: the highest achieved rate's, or the median over busy rows")
    parser.add_argument("--exchange-load", type=Path, nargs="+", default=None,
                        help="bench/ps_load.py --target exchange --json files: node-groups' shard CPU per "
                             "exchange, measured, for their shard counts and --delta-bytes' dtype")
    parser.add_argument("--throughput", type=Path, default=None,
                        help="a bench/throughput.py --out file: the single-node per-learner frames/s")
    parser.add_argument("--throughput-workers", type=int, default=None,
                        help="which worker count of --throughput (default: the largest)")
    parser.add_argument("--json", type=Path, default=None, help="write the inputs and every row here")
    args = parser.parse_args(argv)

    params, push_cpu_ms, fps = d.params, d.push_cpu_ms, d.single_node_fps
    sources = {"params": "docs/distributed.md", "push_cpu_ms": "docs/distributed.md (bench/ps_load.py, 121.8/s)",
               "single_node_fps": "docs/results.md (11,138 frames/s, 2 learners)"}
    if args.ps_load:
        data = json.loads(args.ps_load.read_text())
        push_cpu_ms, params = push_cost_from_ps_load(data, args.ps_cost), int(data.get("params", params))
        sources["push_cpu_ms"] = sources["params"] = f"{args.ps_load} ({args.ps_cost})"
    if args.params is not None:
        push_cpu_ms *= args.params / params  # A2: the cost in proportion to the bytes
        params = args.params
        sources["params"] = "--params"
    if args.push_cpu_ms is not None:
        push_cpu_ms, sources["push_cpu_ms"] = args.push_cpu_ms, "--push-cpu-ms"
    if args.throughput:
        fps = fps_from_throughput(json.loads(args.throughput.read_text()), args.throughput_workers)
        sources["single_node_fps"] = str(args.throughput)
    if args.single_node_fps is not None:
        fps, sources["single_node_fps"] = args.single_node_fps, "--single-node-fps"
    exchange_cpu = None
    if args.exchange_load:
        exchange_cpu, measured_at = exchange_costs(args.exchange_load, args.ps_cost, args.delta_bytes)
        if measured_at is not None and measured_at != params:
            parser.error(f"--exchange-load was measured at {measured_at:,} parameters, the model has {params:,}")
        sources["exchange_cpu_ms"] = ", ".join(map(str, args.exchange_load))
    x = Inputs(params=params, single_node_fps=fps, frames_per_update=args.frames_per_update, push_cpu_ms=push_cpu_ms,
               shard_call_overhead_ms=args.shard_call_overhead_ms, shard_cores=args.shard_cores,
               efficiency=args.efficiency, exchanges=args.exchanges, exchange_window=args.exchange_window,
               in_flight=args.in_flight, delta_bytes=args.delta_bytes, exchanger_cpu_ms=args.exchanger_cpu_ms,
               cores_per_node=args.cores_per_node, learner_call_cpu_ms=args.learner_call_cpu_ms, rtt_ms=args.rtt_ms,
               exchange_cpu_ms=exchange_cpu)
    clusters = args.clusters or [(n, L) for n in args.nodes for L in args.learners_per_node]
    rows = [model(design, x, nodes, per_node, gbit * GBIT, shards)
            for design in args.design for nodes, per_node in clusters for gbit in args.links for shards in args.shards]

    print(f"{x.params:,} parameters ({4 * x.params / 1e6:.2f} MB fp32); a learner {x.single_node_fps:,.0f} frames/s "
          f"= {x.u1:.1f} updates/s of {x.frames_per_update:g} frames on one node; server CPU {x.push_cpu_ms:.2f} ms "
          f"per push; {x.shard_cores:g} core(s) per shard; links at {x.efficiency:.0%}; node-groups: "
          f"{x.exchanges:g} exchanges/s, {x.delta_bytes} bytes per parameter"
          + (", shard CPU per exchange measured: " + ", ".join(f"S={k}: {v:.2f} ms" for k, v in
                                                              sorted(x.exchange_cpu_ms.items()))
             if x.exchange_cpu_ms else " (shard CPU per exchange: A2)") + f". Targets: every link and shard "
          f"<= {BUSY_TARGET:.0%} busy, learner rate >= {RATE_TARGET:.0%}.\n")
    print(markdown(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        clean = [{k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in r.items()} for r in rows]
        args.json.write_text(json.dumps({"inputs": {**asdict(x), "updates_per_learner_per_s": x.u1},
                                         "sources": sources, "targets": {"busy": BUSY_TARGET, "rate": RATE_TARGET},
                                         "rows": clean}, indent=2))
    return rows


if __name__ == "__main__":
    main()
