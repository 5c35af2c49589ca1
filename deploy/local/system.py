"""Starts the whole system as local processes, the way `make run` and the e2e tests do."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy.local.broker import TansuBroker, die_with_parent, free_port, wait_for_port
from shared.auth import ensure_signing_keypair, mint_token
from shared.settings import REPO_ROOT

DOMAIN_SERVICES = ("referrals", "actionplans", "metrics")
DEFAULT_PORTS = {"gateway": 8000, "referrals": 8001, "actionplans": 8002, "metrics": 8003}


@dataclass
class SystemConfig:
    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    kafka_bootstrap_servers: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    ready_timeout_s: float = 90.0

    @classmethod
    def on_free_ports(cls, data_dir: Path, **kwargs) -> "SystemConfig":  # type: ignore[no-untyped-def]
        return cls(data_dir=data_dir, ports={name: free_port() for name in DEFAULT_PORTS}, **kwargs)


class LocalSystem:
    """Broker (unless one is given), three domain services and the gateway, as child processes."""

    def __init__(self, config: SystemConfig) -> None:
        self.config = config
        self.broker: TansuBroker | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.log_dir = config.data_dir / "logs"
        self.key_dir = config.data_dir / "keys"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.config.ports[name]}"

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    @property
    def kafka_bootstrap_servers(self) -> str:
        if self.config.kafka_bootstrap_servers:
            return self.config.kafka_bootstrap_servers
        assert self.broker is not None
        return self.broker.bootstrap_servers

    def start(self) -> "LocalSystem":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        ensure_signing_keypair(self.key_dir)
        self._refuse_busy_ports()
        if not self.config.kafka_bootstrap_servers:
            self.broker = TansuBroker(log_file=self.log_dir / "broker.log").start()
        try:
            for name in (*DOMAIN_SERVICES, "gateway"):
                self.processes[name] = self._spawn(name)
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    def mint_token(self, organisation: str, scopes: str, ttl_s: int = 3600) -> str:
        private_key = (self.key_dir / "signing-key.pem").read_bytes()
        return mint_token(
            private_key,
            organisation=organisation,
            scopes=scopes,
            issuer=self._env()["AUTH_ISSUER"],
            audience=self._env()["AUTH_AUDIENCE"],
            ttl_s=ttl_s,
        )

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.config.ready_timeout_s
        pending = set(self.processes)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name in sorted(pending):
                    self._fail_if_exited(name)
                    if _ready(client, self.url(name) + "/readyz"):
                        pending.discard(name)
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"not ready after {self.config.ready_timeout_s}s: {sorted(pending)}"
                    )
                time.sleep(0.2)

    def _spawn(self, name: str) -> subprocess.Popen[bytes]:
        port = self.config.ports[name]
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{name}.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=REPO_ROOT,
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        wait_for_port_or_exit(process, port, name, self.log_dir)
        return process

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(REPO_ROOT),
                "DATA_DIR": str(self.config.data_dir),
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
                "AUTH_PUBLIC_KEY_FILE": str(self.key_dir / "signing-key.pub.pem"),
                "AUTH_PRIVATE_KEY_FILE": str(self.key_dir / "signing-key.pem"),
                "AUTH_ISSUER": os.environ.get("AUTH_ISSUER", "locality-hub"),
                "AUTH_AUDIENCE": os.environ.get("AUTH_AUDIENCE", "locality-hub-api"),
                # Demo loading sends bursts through the gateway with one token; partners keep
                # the gateway's own default unless this is set for them.
                "GATEWAY_RATE_LIMIT_QUOTA": os.environ.get("GATEWAY_RATE_LIMIT_QUOTA", "6000"),
                **{f"GATEWAY_{name.upper()}_URL": self.url(name) for name in DOMAIN_SERVICES},
            }
        )
        env.update(self.config.extra_env)
        return env

    def _refuse_busy_ports(self) -> None:
        for name, port in self.config.ports.items():
            try:
                wait_for_port("127.0.0.1", port, timeout_s=0.01)
            except TimeoutError:
                continue
            raise RuntimeError(
                f"port {port} for {name} is already in use; stop what holds it or pick another"
            )

    def _fail_if_exited(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}:\n{log_tail(self.log_dir, name)}"
            )


def wait_for_port_or_exit(
    process: subprocess.Popen[bytes], port: int, name: str, log_dir: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}:\n{log_tail(log_dir, name)}"
            )
        try:
            wait_for_port("127.0.0.1", port, timeout_s=0.2)
            return
        except TimeoutError:
            continue
    raise TimeoutError(f"{name} did not open port {port}")


def log_tail(log_dir: Path, name: str, lines: int = 40) -> str:
    path = log_dir / f"{name}.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _ready(client: httpx.Client, url: str) -> bool:
    """Fully ready, not just degraded: a system starting together waits for all its parts."""
    try:
        response = client.get(url)
        return response.status_code == 200 and response.json().get("status") == "ready"
    except (httpx.HTTPError, ValueError):
        return False
