"""The request path against an anchor, side by side in one run: intake and the list read.

Starts a Tansu broker, the anchor (bench/_anchor.py: FastAPI, the same pydantic validation, one
asyncpg INSERT or one indexed select of 20 rows), the referrals service and the gateway in front
of it, each in its own process, on one PostgreSQL (the referrals service on SQLite with
`--database sqlite`). For each request kind it alternates rounds over the targets (the order
reversed every other round, so machine noise hits all alike); a load generator in its own
process keeps `--concurrency` connections busy for `--seconds` per round. `gateway-2w` is the
gateway in front of a second referrals with two uvicorn workers on the same database: the
scale-out figure. `--before PATH` adds `direct@before` and `gateway@before`: the same services
from another checkout (an older commit) on a database of their own, in the same rounds, for a
before/after table measured side by side.

Per target: req/s (all requests over all rounds' wall time), p50 and p99 (median over rounds),
errors (any status but the expected one, timeouts included), and CPU ms per request of each
process (from /proc), plus the ratios the issue sets targets for.

    python -m bench.request_path [--seconds 6] [--rounds 3] [--concurrency 32]
        [--kinds intake,list] [--targets anchor,direct,gateway,gateway-2w] [--database postgresql]
        [--before PATH]
"""

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench._harness import (
    Server,
    machine_load,
    postgres_database,
    run_load,
    write_results,
)
from deploy.local.broker import TansuBroker
from shared.auth import ALL_SCOPES, ensure_signing_keypair, mint_token

TARGETS = ("anchor", "direct", "gateway", "gateway-2w")
# Which processes serve each target (their CPU is charged per request of that target).
SERVED_BY = {
    "anchor": ("anchor",),
    "direct": ("referrals",),
    "gateway": ("gateway", "referrals"),
    "gateway-2w": ("gateway-2w", "referrals-2w"),
    "direct@before": ("referrals@before",),
    "gateway@before": ("gateway@before", "referrals@before"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.request_path")
    parser.add_argument("--seconds", type=float, default=6.0, help="per round and target")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per target, unmeasured")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--kinds", default="intake,list")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--name", default="request_path", help="key of the results file")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout (e.g. `git archive` of an older commit): adds the targets "
        "direct@before and gateway@before, its referrals and gateway on a database of their own",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = args.kinds.split(",")
    targets = [t for t in args.targets.split(",") if t]
    if args.before:
        targets += [t for t in ("direct@before", "gateway@before") if t not in targets]
    with tempfile.TemporaryDirectory(prefix="bench-request-path-") as scratch, ExitStack() as stack:
        data_dir = Path(scratch)
        private_key, public_key = ensure_signing_keypair(data_dir / "keys")
        token = mint_token(
            private_key.read_bytes(),
            organisation="BENCH",
            scopes=ALL_SCOPES,
            issuer="locality-hub",
            audience="locality-hub-api",
            ttl_s=6 * 3600,
        )
        broker = TansuBroker(log_file=data_dir / "broker.log").start()
        stack.callback(broker.stop)
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "AUTH_PUBLIC_KEY_FILE": str(public_key),
            "AUTH_PRIVATE_KEY_FILE": str(private_key),
            "GATEWAY_RATE_LIMIT_QUOTA": "1000000000",
        }
        if args.database == "postgresql":
            env["REFERRALS_DATABASE_URL"] = stack.enter_context(postgres_database("bench_rp"))
        else:
            env["REFERRALS_DATABASE_URL"] = f"sqlite:///{data_dir / 'referrals.sqlite3'}"
        servers = start_servers(stack, env, data_dir, targets)
        if args.before:
            before_env = {**env, "REFERRALS_DATABASE_URL": before_database(stack, args, data_dir)}
            servers |= start_before(stack, before_env, data_dir, args.before)
        results = measure(servers, targets, kinds, token, args)
    summary = {
        "module": "request_path",
        "database": args.database,
        "concurrency": args.concurrency,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "machine": machine_load(),
        "results": results,
        "ratios": ratios(results),
    }
    print_table(summary)
    write_results(args.name, summary)
    return 0


def start_servers(
    stack: ExitStack, env: dict[str, str], data_dir: Path, targets: list[str]
) -> dict[str, Server]:
    servers: dict[str, Server] = {}

    def start(name: str, app: str, extra: dict[str, str], path: str = "/readyz", **kw: int) -> None:
        server = Server(name, app, {**env, **extra}, data_dir, **kw)
        stack.callback(server.stop)
        servers[name] = server.wait_ready(path)

    if "anchor" in targets:
        anchor_db = stack.enter_context(postgres_database("bench_anchor"))
        start("anchor", "bench._anchor:create_app", {"ANCHOR_DATABASE_URL": anchor_db})
    if {"direct", "gateway"} & set(targets):
        start("referrals", "services.referrals.main:create_app", {})
    if "gateway" in targets:
        upstream = {"GATEWAY_REFERRALS_URL": servers["referrals"].url}
        start("gateway", "services.gateway.main:create_app", upstream, "/livez")
    if "gateway-2w" in targets:
        start("referrals-2w", "services.referrals.main:create_app", {}, workers=2)
        upstream = {"GATEWAY_REFERRALS_URL": servers["referrals-2w"].url}
        start("gateway-2w", "services.gateway.main:create_app", upstream, "/livez")
    return servers


def before_database(stack: ExitStack, args: argparse.Namespace, data_dir: Path) -> str:
    if args.database == "postgresql":
        return stack.enter_context(postgres_database("bench_rp_before"))
    return f"sqlite:///{data_dir / 'referrals-before.sqlite3'}"


def start_before(
    stack: ExitStack, env: dict[str, str], data_dir: Path, root: Path
) -> dict[str, Server]:
    """The older checkout's referrals and gateway, measured in the same rounds."""
    referrals = Server(
        "referrals@before", "services.referrals.main:create_app", env, data_dir, root=root
    )
    stack.callback(referrals.stop)
    referrals.wait_ready()
    upstream = {**env, "GATEWAY_REFERRALS_URL": referrals.url}
    gateway = Server(
        "gateway@before", "services.gateway.main:create_app", upstream, data_dir, root=root
    )
    stack.callback(gateway.stop)
    gateway.wait_ready("/livez")
    return {"referrals@before": referrals, "gateway@before": gateway}


def url_of(servers: dict[str, Server], target: str) -> str:
    names = {"direct": "referrals", "direct@before": "referrals@before"}
    return servers[names.get(target, target)].url


def measure(
    servers: dict[str, Server],
    targets: list[str],
    kinds: list[str],
    token: str,
    args: argparse.Namespace,
) -> dict[str, dict[str, dict]]:
    results: dict[str, dict[str, dict]] = {}
    for kind in kinds:
        chosen = [t for t in targets if not (kind == "list" and t == "gateway-2w")]
        for target in chosen:
            run_load(url_of(servers, target), kind, args.warmup, args.concurrency, token)
        rounds: dict[str, list[dict]] = {t: [] for t in chosen}
        for number in range(args.rounds):
            for target in chosen if number % 2 == 0 else reversed(chosen):
                before = {name: s.cpu_s() for name, s in servers.items()}
                outcome = run_load(
                    url_of(servers, target), kind, args.seconds, args.concurrency, token
                )
                outcome["cpu_s"] = {
                    name: servers[name].cpu_s() - before[name] for name in SERVED_BY[target]
                }
                rounds[target].append(outcome)
                print(
                    f"  {kind:6} {target:14} round {number + 1}: {outcome['req_s']:7.1f} req/s"
                    f"  p50 {outcome['p50_ms']:7.1f} ms  p99 {outcome['p99_ms']:7.1f} ms"
                    f"  errors {outcome['errors']}",
                    flush=True,
                )
        results[kind] = {t: combine(rounds[t]) for t in chosen}
    return results


def combine(rounds: list[dict]) -> dict:
    requests = sum(r["requests"] for r in rounds)
    statuses: dict[str, int] = {}
    for r in rounds:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    cpu = {name: sum(r["cpu_s"][name] for r in rounds) for name in rounds[0]["cpu_s"]}
    return {
        "requests": requests,
        "req_s": requests / sum(r["wall_s"] for r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "statuses": statuses,
        "cpu_ms_per_request": {name: 1000 * s / max(requests, 1) for name, s in cpu.items()},
        "load_generator_cpu_share": sum(r["load_cpu_s"] for r in rounds)
        / sum(r["wall_s"] for r in rounds),
    }


def ratios(results: dict[str, dict[str, dict]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for kind, targets in results.items():
        rate = {name: figures["req_s"] for name, figures in targets.items()}
        pairs = [
            ("direct", "anchor"),
            ("gateway", "direct"),
            ("gateway-2w", "gateway"),
            ("direct@before", "anchor"),
            ("gateway@before", "direct@before"),
            ("direct", "direct@before"),
            ("gateway", "gateway@before"),
        ]
        for top, bottom in pairs:
            if top in rate and rate.get(bottom):
                found[f"{kind} {top}/{bottom} req/s"] = round(rate[top] / rate[bottom], 3)
        if "gateway" in targets and "direct" in targets:
            added = targets["gateway"]["p50_ms"] - targets["direct"]["p50_ms"]
            found[f"{kind} gateway p50 added ms"] = round(added, 2)
    return found


def print_table(summary: dict) -> None:
    print(
        f"\n{summary['database']}, {summary['concurrency']} connections, "
        f"{summary['rounds']} rounds x {summary['seconds_per_round']} s per target; "
        f"{summary['machine']}"
    )
    print(
        f"  {'kind':6} {'target':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
        "  CPU ms/request by process"
    )
    for kind, targets in summary["results"].items():
        for target, r in targets.items():
            cpu = ", ".join(f"{n} {ms:.1f}" for n, ms in r["cpu_ms_per_request"].items())
            print(
                f"  {kind:6} {target:14} {r['req_s']:8.1f} {r['p50_ms']:8.1f} "
                f"{r['p99_ms']:8.1f} {r['errors']:6}  {cpu}"
            )
    for name, value in summary["ratios"].items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    sys.exit(main())
