#!/usr/bin/env bash
# The whole test suite on a fresh machine: system packages, Python packages, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium drives the browser tests (Playwright cannot download its own here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
python3 -m ruff check .
# Two workers (pytest-xdist): the suite is about 6 minutes on a 2-core machine this way, over 10 serially.
# Pass -n 0 to run it in one process.
python3 -m pytest -q -n "${PYTEST_WORKERS:-2}" "$@"
