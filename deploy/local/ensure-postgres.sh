#!/usr/bin/env bash
# Start the machine's PostgreSQL when it is installed but not answering. Never fails the build:
# tests that need PostgreSQL say so themselves (and CI sets REQUIRE_POSTGRES=1).
set -u
host=${POSTGRES_HOST:-127.0.0.1}
port=${POSTGRES_PORT:-5432}
answering() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1; then
  echo "postgres: pg_isready not found; PostgreSQL tests will be skipped unless REQUIRE_POSTGRES=1"
  exit 0
fi
answering && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
fi
for _ in $(seq 1 30); do answering && { echo "postgres: started"; exit 0; }; sleep 1; done
echo "postgres: not answering on $host:$port"
exit 0
