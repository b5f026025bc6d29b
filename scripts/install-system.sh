#!/usr/bin/env bash
# Installs the Debian packages veribot needs, only those missing. Idempotent.
set -euo pipefail
PKGS=(espeak-ng libespeak-ng1 sox libsox-fmt-all baresip-core sip-tester kamailio postgresql chromium chromium-driver fonts-wqy-microhei)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "veribot: installing system packages: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
