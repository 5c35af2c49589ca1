#!/usr/bin/env bash
# checkov, hadolint and kubernetes-validate (all from PyPI) in .venv-tools, for tests/deploy.
# Reinstalls when the pins change. Never fails the build: those tests skip without the tools
# unless REQUIRE_DEPLOY_TOOLS=1 (as in CI).
set -u
cd "$(dirname "$0")/../.."
VENV=.venv-tools
STAMP="$VENV/.stamp"
PINS="deploy/tools/requirements.txt deploy/tools/constraints.txt"
if [ -f "$STAMP" ] && [ "$(cat $PINS | sha256sum)" = "$(cat "$STAMP")" ]; then
  exit 0
fi
echo "deploy tools: installing checkov, hadolint, kubernetes-validate into $VENV"
if python3 -m venv "$VENV" \
  && "$VENV/bin/pip" install --quiet --disable-pip-version-check \
       -c deploy/tools/constraints.txt -r deploy/tools/requirements.txt; then
  cat $PINS | sha256sum > "$STAMP"
else
  echo "deploy tools: install failed; tests/deploy will skip the tool checks"
fi
exit 0
