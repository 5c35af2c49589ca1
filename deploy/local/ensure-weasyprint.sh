#!/usr/bin/env bash
# WeasyPrint (the report's PDF) needs Pango from the system. Installs Debian's libpango packages
# when missing (root, as on CI); never fails the build: the PDF test skips unless
# REQUIRE_WEASYPRINT=1, and the report answers 503 for a PDF when WeasyPrint cannot load.
set -u
if ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so.0' && ldconfig -p | grep -q 'libpangoft2-1.0.so.0'; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "weasyprint: installing Pango (Debian packages)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core) \
    >/dev/null 2>&1 || echo "weasyprint: install failed; the PDF test will be skipped"
  exit 0
fi
echo "weasyprint: Pango missing and cannot install it here; the PDF test will be skipped"
exit 0
