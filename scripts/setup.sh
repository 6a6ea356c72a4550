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
# One stamp per extras set and pyproject.toml: `make demo` (all) and `make test` (all,dev) must not undo each other,
# so a stamp is removed only when pyproject.toml changed, and an install of a superset (all,dev) also serves all.
hash="$(sha256sum pyproject.toml | cut -c1-16)"
covered() {  # covered EXTRAS: is every extra of EXTRAS in an install stamped for this pyproject.toml?
  local stamp have want
  for stamp in .venv/.edgecnn-installed-*-"$hash"; do
    [ -f "$stamp" ] || continue
    have="${stamp#.venv/.edgecnn-installed-}"; have=",${have%-"$hash"},"
    for want in ${1//,/ }; do [[ "$have" == *",$want,"* ]] || continue 2; done
    return 0
  done
  return 1
}
if ! covered "$extras"; then
  echo "setup: installing edgecnn[$extras] into .venv (about 2 GB the first time)"
  # setuptools >= 77 reads pyproject.toml's SPDX licence; the devices stage builds its wheel with this one.
  .venv/bin/python -m pip install -q --upgrade pip "setuptools>=77" wheel
  .venv/bin/python -m pip install -q -e ".[$extras]"
  for stamp in .venv/.edgecnn-installed-*; do
    if [ -f "$stamp" ] && [[ "$stamp" != *"-$hash" ]]; then rm -f "$stamp"; fi
  done
  touch ".venv/.edgecnn-installed-$extras-$hash"
fi
