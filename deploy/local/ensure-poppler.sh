#!/usr/bin/env bash
# pdfinfo, pdftoppm and pdftotext (Debian's poppler-utils) for the test that reads the committee report's
# PDF as a person would: pages as images, and its text. Installs the package when missing (root,
# as on CI); never fails the build: the test skips unless REQUIRE_POPPLER=1.
set -u
if command -v pdfinfo >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "poppler: installing the Debian package poppler-utils"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils) \
    >/dev/null 2>&1 || echo "poppler: install failed; the report's PDF page test will be skipped"
  exit 0
fi
echo "poppler: not installed and cannot install it here; the report's PDF page test will be skipped"
exit 0
