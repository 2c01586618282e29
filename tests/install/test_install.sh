#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/install/test_install.sh - install the project for real and use it
# the way a user does:
#   1. configure a fresh build with -DBUILD_TESTING=OFF, with pkg-config
#      able to see only jansson and liburing (so CUnit cannot be needed),
#      build it, and check that nothing of tests/ was configured or built;
#   2. cmake --install it with --prefix, then move the installed tree
#      elsewhere (the package must not remember where it was installed);
#   3. check every installed file: library, headers, shmetrics.pc, the CMake
#      package, shmetricsd, shmtool, the manual pages, LICENSE;
#   4. build consumer/consumer.c through pkg-config and through
#      find_package(shmetrics 1.0) (shared and static), and run each;
#   5. check that find_package(shmetrics 2.0) and (shmetrics 0.9) fail
#      because of the version, and nothing else;
#   6. install again with a two-level CMAKE_INSTALL_LIBDIR and build the
#      consumer against that through pkg-config and find_package.
#
# Usage: test_install.sh SOURCE_DIR TEST_DIR CMAKE CC VERSION
#   SOURCE_DIR  the project; TEST_DIR  this directory (consumer/ is in it)
#   CMAKE, CC   the cmake and C compiler of the enclosing build
#   VERSION     the project version the installed package must report
# Exit status 0 when every check passes, 1 at the first that fails.
set -eu

[ $# -eq 5 ] || { echo "usage: $0 SOURCE_DIR TEST_DIR CMAKE CC VERSION" >&2; exit 2; }
SRC=$1 HERE=$2 CMAKE=$3 CC=$4 VERSION=$5
T=$(mktemp -d "${TMPDIR:-/tmp}/shmetrics-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
# Segments of the consumers go into the scratch directory, not /dev/shm.
SHMETRICS_SHM_DIR=$T/shm
export SHMETRICS_SHM_DIR
mkdir "$SHMETRICS_SHM_DIR"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR CMAKE_PREFIX_PATH || true

fail() {
    echo "test_install: FAIL: $*" >&2
    exit 1
}
step() { printf '== %s\n' "$*"; }

# run LOG CMD...: run CMD with its output in LOG; on failure show the log.
run() {
    log=$1
    shift
    rc=0
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        tail -n 60 "$log" >&2
        fail "$* (exit status $rc)"
    fi
}

# physical DIR: DIR with every symlink and .. resolved.
physical() { (cd "$1" && pwd -P); }

# ---- 1. configure and build without tests -----------------------------------

step "configure with -DBUILD_TESTING=OFF; pkg-config sees only jansson and liburing"
mkdir "$T/pc"
for m in jansson liburing; do
    d=$(pkg-config --variable=pcfiledir "$m") || fail "$m.pc not found"
    ln -s "$d/$m.pc" "$T/pc/$m.pc"
done
B=$T/build
# The prefix given here is never used: --prefix at install time decides.
run "$T/configure.log" env PKG_CONFIG_LIBDIR="$T/pc" PKG_CONFIG_PATH= \
    "$CMAKE" -S "$SRC" -B "$B" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_INSTALL_PREFIX="$T/unused-prefix"
step "build"
run "$T/build.log" "$CMAKE" --build "$B" -j2

step "no test was configured or built"
[ ! -e "$B/tests" ] || fail "the build has a tests directory"
[ ! -e "$B/CTestTestfile.cmake" ] || fail "the build registered tests (CTestTestfile.cmake)"
found=$(find "$B" -type f -name 'test_*' -perm -u+x)
[ -z "$found" ] || fail "test executables were built: $found"
if grep -E '^(CUNIT|pkgcfg_lib_CUNIT|__pkg_config_checked_CUNIT)' "$B/CMakeCache.txt"; then
    fail "the configure looked for CUnit"
fi

# ---- 2. install, then move the tree ------------------------------------------

step "install with --prefix, then move the installed tree"
run "$T/install.log" "$CMAKE" --install "$B" --prefix "$T/prefix"
mv "$T/prefix" "$T/moved"
P=$T/moved
LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$B/CMakeCache.txt")
[ -n "$LIBDIR" ] || fail "no CMAKE_INSTALL_LIBDIR in the cache"

# ---- 3. the installed files ------------------------------------------------

step "installed files"
for f in include/shmetrics.h include/shmetrics/abi.h \
    "$LIBDIR/libshmetrics.so.$VERSION" "$LIBDIR/libshmetrics.a" \
    "$LIBDIR/pkgconfig/shmetrics.pc" \
    "$LIBDIR/cmake/shmetrics/shmetricsConfig.cmake" \
    "$LIBDIR/cmake/shmetrics/shmetricsConfigVersion.cmake" \
    "$LIBDIR/cmake/shmetrics/shmetricsTargets.cmake" \
    bin/shmetricsd bin/shmtool; do
    [ -f "$P/$f" ] || fail "$f is not installed"
done
major=${VERSION%%.*}
[ "$(readlink "$P/$LIBDIR/libshmetrics.so.$major")" = "libshmetrics.so.$VERSION" ] ||
    fail "libshmetrics.so.$major does not link to libshmetrics.so.$VERSION"
[ "$(readlink "$P/$LIBDIR/libshmetrics.so")" = "libshmetrics.so.$major" ] ||
    fail "libshmetrics.so does not link to libshmetrics.so.$major"
for f in man8/shmetricsd.8 man1/shmtool.1 man3/shmetrics.3; do
    cmp "$SRC/docs/man/${f#*/}" "$P/share/man/$f" || fail "share/man/$f is not docs/man/${f#*/}"
done
cmp "$SRC/LICENSE" "$P/share/doc/shmetrics/LICENSE" || fail "share/doc/shmetrics/LICENSE"
# Nothing installed may name the prefix it was installed to.
if grep -rIl -e "$T/prefix" -e "$T/unused-prefix" "$P"; then
    fail "the files above name the install prefix: the tree cannot move"
fi
out=$("$P/bin/shmetricsd" --version) || fail "shmetricsd --version failed"
case "$out" in
"shmetricsd $VERSION "*) ;;
*) fail "shmetricsd --version says '$out', expected 'shmetricsd $VERSION ...'" ;;
esac
out=$("$P/bin/shmtool" --version) || fail "shmtool --version failed"
[ "$(echo "$out" | head -n 1)" = "shmtool (shmetrics) $VERSION" ] ||
    fail "shmtool --version says '$out'"

# ---- 4. consumers -------------------------------------------------------

# consume NAME BINARY: run BINARY on a namespace of its own; it must exit 0
# and leave a valid segment of the geometry it asked for.
consume() {
    ns=install-$1-$$
    out=$("$2" "$ns" "$VERSION") || fail "$1: the consumer failed: $out"
    [ "$out" = "consumer: ok (shmetrics $VERSION)" ] || fail "$1: the consumer said '$out'"
    [ -f "$SHMETRICS_SHM_DIR/shmetrics.$ns" ] || fail "$1: no segment shmetrics.$ns"
    "$P/bin/shmtool" --ns "$ns" check >"$T/check.out" 2>&1 ||
        { cat "$T/check.out" >&2; fail "$1: shmtool check of its segment"; }
    "$P/bin/shmtool" --ns "$ns" info >"$T/info.out" 2>&1 || fail "$1: shmtool info"
    grep -q '^geometry  *4 slots, 64 records per ring, 4096 arena bytes per slot$' "$T/info.out" ||
        { cat "$T/info.out" >&2; fail "$1: not the geometry the consumer asked for"; }
    echo "$1: ok"
}

# pc_consumer NAME PCDIR PREFIX LIBDIR: through pkg-config, which must name
# PREFIX/include and PREFIX/LIBDIR whatever path it was found by.
pc_consumer() {
    PKG_CONFIG_PATH=$2
    export PKG_CONFIG_PATH
    v=$(pkg-config --modversion shmetrics) || fail "$1: pkg-config does not find shmetrics"
    [ "$v" = "$VERSION" ] || fail "$1: pkg-config says version $v, expected $VERSION"
    inc=$(pkg-config --variable=includedir shmetrics)
    lib=$(pkg-config --variable=libdir shmetrics)
    [ "$(physical "$inc")" = "$(physical "$3/include")" ] || fail "$1: includedir is $inc"
    [ "$(physical "$lib")" = "$(physical "$3/$4")" ] || fail "$1: libdir is $lib"
    # shellcheck disable=SC2046 # the flags are words
    "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror $(pkg-config --cflags shmetrics) \
        -o "$T/bin-$1" "$HERE/consumer/consumer.c" $(pkg-config --libs shmetrics) \
        -Wl,-rpath,"$lib" || fail "$1: the build through pkg-config failed"
    unset PKG_CONFIG_PATH
    consume "$1" "$T/bin-$1"
}

# cmake_consumer NAME REQUEST DEFINE...: configure consumer/ with
# find_package(shmetrics REQUEST), build and run it, shared and static.
cmake_consumer() {
    name=$1 req=$2
    shift 2
    run "$T/$name.configure.log" "$CMAKE" -S "$HERE/consumer" -B "$T/$name" \
        -DCMAKE_C_COMPILER="$CC" -DREQUEST="$req" -DEXPECT="$VERSION" "$@"
    run "$T/$name.build.log" "$CMAKE" --build "$T/$name" -j2
    consume "$name" "$T/$name/consumer"
    consume "$name-static" "$T/$name/consumer_static"
}

step "a consumer through pkg-config"
pc_consumer pc "$P/$LIBDIR/pkgconfig" "$P" "$LIBDIR"

step "a consumer through find_package(shmetrics 1.0)"
cmake_consumer cmake 1.0 -DCMAKE_PREFIX_PATH="$P"
dir=$(sed -n 's/^shmetrics_DIR:PATH=//p' "$T/cmake/CMakeCache.txt")
[ "$(physical "$dir")" = "$(physical "$P/$LIBDIR/cmake/shmetrics")" ] ||
    fail "find_package found shmetrics in '$dir', not in the installed tree"

# ---- 5. versions the package must refuse --------------------------------

for req in 2.0 0.9; do
    step "find_package(shmetrics $req) fails"
    if "$CMAKE" -S "$HERE/consumer" -B "$T/cmake-$req" -DCMAKE_C_COMPILER="$CC" \
        -DCMAKE_PREFIX_PATH="$P" -DREQUEST="$req" -DEXPECT="$VERSION" \
        >"$T/cmake-$req.log" 2>&1; then
        fail "find_package(shmetrics $req) succeeded with version $VERSION"
    fi
    # The reason must be the version: the package itself was found.
    log=$T/cmake-$req.log
    tr -s ' \n' '  ' <"$log" | grep -q "compatible with requested version \"$req\"" ||
        { cat "$log" >&2; fail "find_package(shmetrics $req) failed for another reason"; }
    grep -q "shmetricsConfig.cmake, version: $VERSION" "$log" ||
        { cat "$log" >&2; fail "find_package(shmetrics $req) did not consider $VERSION"; }
done

# ---- 6. a two-level libdir ---------------------------------------------------

step "install again with CMAKE_INSTALL_LIBDIR=lib/sub"
run "$T/configure2.log" env PKG_CONFIG_LIBDIR="$T/pc" PKG_CONFIG_PATH= \
    "$CMAKE" -S "$SRC" -B "$B" -DCMAKE_INSTALL_LIBDIR=lib/sub
run "$T/install2.log" "$CMAKE" --install "$B" --prefix "$T/prefix2"
pc=$T/prefix2/lib/sub/pkgconfig/shmetrics.pc
grep -q '^prefix=${pcfiledir}/../../..$' "$pc" ||
    fail "shmetrics.pc under lib/sub does not climb three levels: $(grep '^prefix=' "$pc")"
pc_consumer pc-sub "$T/prefix2/lib/sub/pkgconfig" "$T/prefix2" lib/sub
cmake_consumer cmake-sub 1.0 -Dshmetrics_DIR="$T/prefix2/lib/sub/cmake/shmetrics"

echo "test_install: all checks passed"
