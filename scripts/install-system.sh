#!/usr/bin/env bash
# Installs the Debian packages veribot needs, only those missing. Idempotent.
set -euo pipefail
PKGS=(espeak-ng libespeak-ng1 sox libsox-fmt-all baresip-core sip-tester kamailio postgresql chromium chromium-driver fonts-wqy-microhei)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (for axe-core) by command, not by package: a machine may carry a Node.js build
# whose `nodejs` package already holds npm and conflicts with Debian's separate `npm` package.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "veribot: installing system packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# axe-core: the console's accessibility checks (tests/console/axe.py), project-local under var/node
AXE_VERSION=4.14.1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if ! grep -qs "\"version\": \"$AXE_VERSION\"" "$ROOT/var/node/node_modules/axe-core/package.json"; then
  echo "veribot: installing axe-core $AXE_VERSION into var/node" >&2
  npm install --silent --no-audit --no-fund --prefix "$ROOT/var/node" "axe-core@$AXE_VERSION"
fi
