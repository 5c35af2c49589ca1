"""`make run`: broker, four services and the gateway on SQLite files in .data/, until Ctrl-C."""

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from deploy.local.demo import load_demo_data
from deploy.local.system import DEFAULT_PORTS, LocalSystem, SystemConfig
from shared.auth import ALL_SCOPES
from shared.settings import DEFAULT_DATA_DIR

DEMO_ORGANISATION = "DEMO-HUB"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.runner", description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR", DEFAULT_DATA_DIR))
    )
    parser.add_argument("--gateway-port", type=int, default=DEFAULT_PORTS["gateway"])
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The services' log files in .data/logs/ are read by people here, not by a log shipper.
    os.environ.setdefault("LOG_FORMAT", "console")
    base = args.gateway_port
    config = SystemConfig(
        data_dir=args.data_dir.resolve(),
        ports={
            "gateway": base,
            "referrals": base + 1,
            "actionplans": base + 2,
            "metrics": base + 3,
        },
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    system = LocalSystem(config)
    print(f"Starting the Locality Hub (data in {config.data_dir}) ...", flush=True)
    try:
        system.start()
        if not args.no_demo:
            ran = load_demo_data(
                system.gateway_url,
                system.mint_token(DEMO_ORGANISATION, ALL_SCOPES),
                config.data_dir / "demo",
                act_as=lambda organisation: {
                    "Authorization": f"Bearer {system.mint_token(organisation, ALL_SCOPES)}"
                },
            )
            print("Demo data loaded: %s" % (", ".join(ran) or "already present"), flush=True)
        print_urls(system)
        stop.wait()
    except Exception as error:
        print(f"Could not start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("\nStopping ...", flush=True)
        system.stop()
        print("Stopped.", flush=True)
    return 0


def print_urls(system: LocalSystem) -> None:
    token = system.mint_token(DEMO_ORGANISATION, ALL_SCOPES)
    print(
        f"""
Locality Hub is running.
  Gateway (API)   {system.gateway_url}      docs: {system.gateway_url}/docs
  referrals       {system.url("referrals")}  docs: {system.url("referrals")}/docs
  actionplans     {system.url("actionplans")}
  metrics         {system.url("metrics")}
  Kafka           {system.kafka_bootstrap_servers}
  Logs            {system.log_dir}

A development token for organisation {DEMO_ORGANISATION} (valid one hour):
  export TOKEN={token}
  curl -H "Authorization: Bearer $TOKEN" {system.gateway_url}/api/v1/derived/referrals-received

Press Ctrl-C to stop.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
