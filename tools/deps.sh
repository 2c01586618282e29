#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/deps.sh - sourced by tools/test.sh and tools/demo.sh: installs the
# Debian packages shmetrics needs to build and test, when missing.

SHMET_PACKAGES=(
    cmake make gcc clang pkg-config
    liburing-dev libjansson-dev libcunit1-dev zlib1g-dev
    libclang-rt-14-dev llvm
    python3 python3-venv python3-dev valgrind
    prometheus python3-prometheus-client curl
)

shmet_install_deps() {
    local missing=() p
    for p in "${SHMET_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
