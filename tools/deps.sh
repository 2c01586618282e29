#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/deps.sh - sourced by the scripts in tools/: installs the Debian
# packages shmetrics needs, when missing. Two lists:
#   SHMET_BUILD_PACKAGES  build the C project and run it: what tools/demo.sh
#                         needs (python3 formats its /debug summary, curl
#                         asks the servers)
#   SHMET_TEST_PACKAGES   the rest of what tools/test.sh needs: CUnit, clang
#                         and its sanitizer and libFuzzer runtimes, valgrind,
#                         the Python package's build and test tools, the
#                         Prometheus tools of the exposition tests, groff for
#                         the manual page test
# shmet_install_deps [PKG...]        both lists, and PKG...
# shmet_install_build_deps [PKG...]  the build list, and PKG...

SHMET_BUILD_PACKAGES=(
    cmake make gcc pkg-config
    liburing-dev libjansson-dev zlib1g-dev
    python3 curl
)
SHMET_TEST_PACKAGES=(
    libcunit1-dev
    clang libclang-rt-14-dev llvm
    valgrind
    python3-venv python3-dev
    prometheus python3-prometheus-client
    groff-base
)
# Both lists, for the scripts that read the variable rather than call.
SHMET_PACKAGES=("${SHMET_BUILD_PACKAGES[@]}" "${SHMET_TEST_PACKAGES[@]}")

# shmet_install_packages PKG...: apt-get install those of PKG not installed.
shmet_install_packages() {
    local missing=() p
    for p in "$@"; do
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

shmet_install_deps() {
    shmet_install_packages "${SHMET_PACKAGES[@]}" "$@"
}

shmet_install_build_deps() {
    shmet_install_packages "${SHMET_BUILD_PACKAGES[@]}" "$@"
}
