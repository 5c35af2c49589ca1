#!/usr/bin/env bash
# promtool, to check deploy/observability/alerts.yml (tests/deploy/test_observability.py).
# Installs Debian's `prometheus` package when missing (root, as on CI); never fails the build:
# the check skips unless REQUIRE_PROMTOOL=1.
set -u
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "promtool: installing the Debian package prometheus"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) \
    >/dev/null 2>&1 || echo "promtool: install failed; the alert rules check will be skipped"
  exit 0
fi
echo "promtool: not installed and cannot install it here; the alert rules check will be skipped"
exit 0
