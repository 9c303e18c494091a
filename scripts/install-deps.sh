#!/usr/bin/env bash
# Install the system libraries Overparam links against (Debian/Ubuntu), only when missing.
set -euo pipefail
need=()
have_pc() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; }
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
have_pc openblas || need+=(libopenblas-dev)
have_pc lapacke || need+=(liblapacke-dev)
have_pc zlib || need+=(zlib1g-dev)
have_pc sqlite3 || need+=(libsqlite3-dev)
if [ "${#need[@]}" -gt 0 ]; then
  echo "Installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "swift not found: install the Swift 6 toolchain (https://swift.org/install) and put it on PATH" >&2; exit 1; }
