#!/bin/sh
# Build and run tests/consumer against libbtfm as a user would get it:
#   run.sh pkgconfig  BUILDDIR SOURCEDIR [MESON] [-- SETUP_ARGS...]
#       install BUILDDIR into a temporary DESTDIR, find libbtfm there by pkg-config
#   run.sh subproject BUILDDIR SOURCEDIR [MESON] [-- SETUP_ARGS...]
#       build libbtfm from SOURCEDIR as the consumer's subproject subprojects/btfm
# SETUP_ARGS go to the consumer's `meson setup` (e.g. -Db_sanitize=address).
# Everything happens in a fresh temporary folder, removed at exit.
set -eu

usage() { echo "usage: $0 pkgconfig|subproject BUILDDIR SOURCEDIR [MESON] [-- SETUP_ARGS...]" >&2; exit 99; }
[ $# -ge 3 ] || usage
mode=$1
build=$(cd "$2" && pwd)
source=$(cd "$3" && pwd)
shift 3
meson=meson
if [ $# -gt 0 ] && [ "$1" != "--" ]; then meson=$1; shift; fi
if [ $# -gt 0 ]; then [ "$1" = "--" ] || usage; shift; fi

step() { printf '\n=== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/btfm-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
run mkdir "$tmp/consumer"
run cp -R "$source/tests/consumer/." "$tmp/consumer"
# Run the consumer as a user would: not with the paths meson test sets for its
# own programs, which point at the uninstalled library.
unset LD_LIBRARY_PATH

# libbtfm.so.1 as the program loads it, which must be the copy under $1.
check_loaded() {
    loaded=$(ldd "$2" | awk '$1 == "libbtfm.so.1" { print $3 }')
    printf 'libbtfm.so.1 => %s\n' "$loaded"
    case $loaded in
        "$1"/*) ;;
        *) die "the consumer loads libbtfm.so.1 from '$loaded', not from under $1" ;;
    esac
}

case $mode in
pkgconfig)
    # `meson test` builds only what the tests use, so installing may need a build
    # first; `ninja test` has built everything and runs this inside ninja, where a
    # second ninja must not write the same build folder. Hence: rebuild only if
    # ninja's dry run (which writes nothing) finds work.
    step "install $build into a temporary DESTDIR (runtime and devel files)"
    destdir=$tmp/destdir
    rebuild=--no-rebuild
    if ! "${NINJA:-ninja}" -C "$build" -n | grep -q '^ninja: no work to do'; then
        rebuild=
    fi
    run "$meson" install -C "$build" $rebuild --skip-subprojects \
        --tags runtime,devel --destdir "$destdir"
    pc=$(find "$destdir" -name btfm.pc | head -n 1)
    [ -n "$pc" ] || die "no btfm.pc was installed under $destdir"
    so=$(find "$destdir" -name libbtfm.so.1 | head -n 1)
    [ -n "$so" ] || die "no libbtfm.so.1 was installed under $destdir"
    pcdir=$(dirname "$pc") libdir=$(dirname "$so")

    step "configure the consumer with pkg-config (PKG_CONFIG_PATH=$pcdir, sysroot $destdir)"
    PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$destdir
    export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
    run pkg-config --cflags --libs btfm
    run "$meson" setup "$tmp/build" "$tmp/consumer" --wrap-mode=nofallback \
        -Dexpect_btfm=pkgconfig "$@"

    step "build the consumer"
    run "$meson" compile -C "$tmp/build"

    step "run the consumer against the installed library"
    LD_LIBRARY_PATH=$libdir
    export LD_LIBRARY_PATH
    check_loaded "$destdir" "$tmp/build/btfm-consumer"
    run "$tmp/build/btfm-consumer"
    ;;
subproject)
    step "make $source the consumer's subproject subprojects/btfm (a symlink)"
    run mkdir "$tmp/consumer/subprojects"
    run ln -s "$source" "$tmp/consumer/subprojects/btfm"

    step "configure the consumer, building libbtfm as a subproject"
    run "$meson" setup "$tmp/build" "$tmp/consumer" --force-fallback-for=btfm \
        -Dexpect_btfm=internal "$@"

    step "build the consumer and libbtfm"
    run "$meson" compile -C "$tmp/build"

    step "run the consumer against the subproject's library"
    check_loaded "$tmp/build" "$tmp/build/btfm-consumer"
    run "$tmp/build/btfm-consumer"
    ;;
*)
    usage
    ;;
esac
step "OK: consumer ($mode) built and ran"
