#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and fuzzing esink needs, plus the
# npm packages of the interoperability tests and of the demo. Idempotent: does nothing when
# all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git ca-certificates openssl
  clang libclang-rt-14-dev
  libasio-dev libwebsocketpp-dev libssl-dev
  libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
  libpq-dev libmariadb-dev libsqlite3-dev sqlite3
  postgresql mariadb-server
  chromium
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js may come from Debian or from elsewhere; only install Debian's when there is none.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# The interoperability tests run the real socket.io-client (and playwright-core driving Debian's
# chromium); the demo page loads the same client from esink. Both pinned by their lock files.
for dir in tests/interop samples/esink_service/demo; do
  if [ -f $dir/package-lock.json ]; then
    stamp=$dir/node_modules/.esink-lock
    if [ ! -f "$stamp" ] || ! cmp -s $dir/package-lock.json "$stamp"; then
      echo "setup: npm ci in $dir"
      (cd $dir && npm ci --no-audit --no-fund --loglevel=error)
      cp $dir/package-lock.json "$stamp"
    fi
  fi
done
