#!/usr/bin/env bash
# Proves a deploy bundle on the Raspberry Pi's own architecture without a Pi: an arm64 Debian 12 root made with
# debootstrap, run under qemu-user (Debian's qemu-user-static through binfmt_misc), installs the bundle with the
# bundle's own install.sh (python3 -m venv, pip install of the edgecnn wheel + ai-edge-litert's aarch64 wheel from
# PyPI) and runs its smoke test, then classifies the smoke images once more and prints the JSON lines.
#
# Usage (root; Debian packages debootstrap, qemu-user-static, binfmt-support):
#   edgecnn bundle ARTIFACT --profile rpi5 --out /tmp/rpi5.tar.gz && scripts/qemu-arm64-test.sh /tmp/rpi5.tar.gz
# or, from a checkout, the gated test that does both with a tiny model:
#   EDGECNN_SLOW=1 .venv/bin/python -m pytest tests/devices/test_qemu_arm64.py
# The root is made once (about 20 minutes on 2 cores) and kept in $EDGECNN_QEMU_ROOT
# (default /var/tmp/edgecnn-qemu/bookworm-arm64); each run installs into a fresh prefix inside it.
set -euo pipefail
bundle=${1:?usage: scripts/qemu-arm64-test.sh BUNDLE.tar.gz}
root=${EDGECNN_QEMU_ROOT:-/var/tmp/edgecnn-qemu/bookworm-arm64}
mirror=${EDGECNN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "qemu-arm64-test: needs root (debootstrap, chroot, binfmt_misc)" >&2; exit 2; }
for tool in debootstrap qemu-aarch64-static update-binfmts chroot; do
  command -v "$tool" >/dev/null || { echo "qemu-arm64-test: $tool is missing: apt-get install debootstrap" \
    "qemu-user-static binfmt-support" >&2; exit 2; }
done
[ -f "$bundle" ] || { echo "qemu-arm64-test: $bundle: no such bundle file" >&2; exit 2; }

# Let the kernel hand arm64 binaries to qemu (a container may start without binfmt_misc mounted).
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { echo "qemu-arm64-test: cannot register qemu-aarch64 with" \
  "binfmt_misc" >&2; exit 2; }

if [ ! -f "$root/.edgecnn-root-ready" ]; then
  echo "== debootstrap: arm64 Debian 12 root in $root (once; about 20 minutes)"
  rm -rf "$root.tmp"
  debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,ca-certificates bookworm \
    "$root.tmp" "$mirror"
  mv "$root.tmp" "$root"
  touch "$root/.edgecnn-root-ready"
fi

cleanup() { umount "$root/proc" 2>/dev/null || true; umount "$root/dev" 2>/dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"   # pip inside the root reaches PyPI for the aarch64 wheels
# pip inside the root trusts what this machine's pip trusts (a site proxy's CA, if any): the host's CA bundle.
host_ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$host_ca" ]; then
  cp "$host_ca" "$root/etc/edgecnn-host-ca.crt"
  export PIP_CERT=/etc/edgecnn-host-ca.crt REQUESTS_CA_BUNDLE=/etc/edgecnn-host-ca.crt SSL_CERT_FILE=/etc/edgecnn-host-ca.crt
fi
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL   # this machine's local wheel folders are not inside the root

work=/tmp/edgecnn-qemu-test
rm -rf "$root$work" && mkdir -p "$root$work"
cp "$bundle" "$root$work/bundle.tar.gz"
echo "== inside the root: $(chroot "$root" uname -m), $(chroot "$root" python3 --version)"
start=$(date +%s)
chroot "$root" /bin/sh -c "cd $work && tar -xzf bundle.tar.gz bundle/install.sh && \
  sh bundle/install.sh $work/bundle.tar.gz $work/prefix python3"
echo "== classify the smoke images again under qemu (edgecnn run --headless, ai-edge-litert aarch64)"
chroot "$root" /bin/sh -c "cd $work/prefix/current && ./venv/bin/python -c \
  'import ai_edge_litert, platform, sys; print(platform.machine(), \"ai-edge-litert\", ai_edge_litert.__version__ \
  if hasattr(ai_edge_litert, \"__version__\") else \"\", \"tensorflow\" in sys.modules)' && \
  ./venv/bin/edgecnn run --model \"\$(./venv/bin/python -c 'import json; print(json.load(open(\"bundle.json\"))[\"model\"])')\" \
  --source smoke --headless"
echo "== qemu-arm64-test: passed in $(( $(date +%s) - start )) s"
