#!/usr/bin/env bash
# The published AsyncAPI JSON Schemas (npm package @asyncapi/specs) for the test that validates
# services/gateway/asyncapi.json. Installs into .venv/npm (git-ignored) when npm is present;
# never fails the build: the validation skips unless REQUIRE_ASYNCAPI_SCHEMA=1.
set -u
VERSION="6.11.1"
TARGET=".venv/npm"
if [ -f "$TARGET/node_modules/@asyncapi/specs/package.json" ] \
  && grep -q "\"version\": \"$VERSION\"" "$TARGET/node_modules/@asyncapi/specs/package.json"; then
  exit 0
fi
if command -v npm >/dev/null 2>&1; then
  echo "asyncapi: installing @asyncapi/specs@$VERSION into $TARGET"
  mkdir -p "$TARGET"
  npm install --silent --no-audit --no-fund --prefix "$TARGET" "@asyncapi/specs@$VERSION" >/dev/null 2>&1 \
    || echo "asyncapi: install failed; the AsyncAPI schema validation will be skipped"
  exit 0
fi
echo "asyncapi: npm not installed; the AsyncAPI schema validation will be skipped"
exit 0
