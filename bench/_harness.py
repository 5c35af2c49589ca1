"""What every benchmark module needs: processes on free ports, PostgreSQL scratch databases,
CPU time and RSS from /proc, and the load generator in its own process.

BENCH_SERVICE_ROOT points the services (not the harness) at another checkout, so the same
commands measure an older commit for a before/after table.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from deploy.local.broker import free_port
from shared.settings import REPO_ROOT

SERVICE_ROOT = Path(os.environ.get("BENCH_SERVICE_ROOT", REPO_ROOT))
PG_HOST = os.environ.get("POSTGRES_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("POSTGRES_PORT", "5432"))
PG_USER = os.environ.get("POSTGRES_USER", "postgres")
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


async def _postgres(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres"
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh database, dropped afterwards; yields its plain postgresql:// URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Server:
    """One uvicorn app in its own process group on a free loopback port."""

    def __init__(
        self,
        name: str,
        app: str,
        env: dict[str, str],
        log_dir: Path,
        *,
        workers: int = 1,
        root: Path | None = None,
    ) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--no-access-log", "--log-level", "warning"]
        if workers > 1:
            command += ["--workers", str(workers)]
        self.log = log_dir / f"{name}.log"
        code = (root or SERVICE_ROOT) if app.startswith("services.") else REPO_ROOT
        self.process = subprocess.Popen(
            command,
            cwd=code,
            env={
                **env,
                "PYTHONPATH": str(code),
            },
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str = "/readyz", timeout_s: float = 90) -> "Server":
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
                try:
                    if client.get(self.url + path).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready:\n{self.log.read_text()[-3000:]}")

    def cpu_s(self) -> float:
        return sum(cpu_seconds(pid) for pid in process_tree(self.process.pid))

    def rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in process_tree(self.process.pid))

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


def run_load(url: str, kind: str, seconds: float, concurrency: int, token: str) -> dict:
    """Drive `url` from a separate process; the generator's JSON result."""
    command = [sys.executable, "-m", "bench._load", url, "--kind", kind]
    command += ["--seconds", str(seconds), "--concurrency", str(concurrency), "--token", token]
    output = subprocess.run(
        command, cwd=REPO_ROOT, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output)


def write_results(name: str, results: dict) -> None:
    """Leave this module's results where `python -m bench` collects them (if it asked)."""
    folder = os.environ.get("BENCH_RESULTS_DIR")
    if folder:
        Path(folder, f"{name}.json").write_text(json.dumps(results, indent=2))
