#!/usr/bin/env bash
# Sets up a fresh machine: Debian packages from .ci/apt-packages.txt, then .venv with edgecnn and its extras.
# Usage: scripts/setup.sh [EXTRAS]   (default: all,dev). Re-running is cheap: it skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all,dev}"

packages=$(sed -e 's/#.*//' .ci/apt-packages.txt | tr -s ' \n' ' ')
missing=""
for pkg in $packages; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing Debian packages:$missing"
  $sudo_cmd apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.edgecnn-installed-$extras-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing edgecnn[$extras] into .venv (about 2 GB the first time)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  rm -f .venv/.edgecnn-installed-*
  touch "$stamp"
fi
