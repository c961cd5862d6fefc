#!/bin/sh
# Build, install and run tests/consumer against libbtfm as a user would get it:
#   run.sh pkgconfig  BUILDDIR SOURCEDIR [MESON] [-- SETUP_ARGS...]
#       install BUILDDIR into a temporary DESTDIR; run the installed btfm, Lua module and
#       Python package from there; build the consumer against it by pkg-config, install
#       it into the same DESTDIR and run the installed program
#   run.sh subproject[:FOLDER] BUILDDIR SOURCEDIR [MESON] [-- SETUP_ARGS...]
#       build libbtfm from SOURCEDIR as the consumer's subproject subprojects/FOLDER
#       (libbtfm, a plain clone's name, found through a wrap file), install both and run
#       the installed program; with the folder btfm, found by its name, only configure:
#       the lookup is all that differs, and a second build of the library would double
#       the test's time
# No LD_LIBRARY_PATH, LUA_CPATH beyond the module's folder, or PYTHONPATH beyond the
# package's folder: the installed files find libbtfm.so.1 relative to themselves.
# SETUP_ARGS go to the consumer's `meson setup` (e.g. -Db_sanitize=address).
# Everything happens in a fresh temporary folder, removed at exit.
set -eu

usage() { echo "usage: $0 pkgconfig|subproject[:FOLDER] BUILDDIR SOURCEDIR [MESON] [-- SETUP_ARGS...]" >&2; exit 99; }
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
# Run everything as a user would: not with the paths meson test sets for its own
# programs, which point at the uninstalled library.
unset LD_LIBRARY_PATH BTFM_LIBRARY PYTHONPATH LUA_CPATH
destdir=$tmp/destdir

# libbtfm.so.1 as the program or module $2 loads it, which must be the copy under $1.
check_loaded() {
    loaded=$(ldd "$2" | awk '$1 == "libbtfm.so.1" { print $3 }')
    printf '%s: libbtfm.so.1 => %s\n' "$2" "$loaded"
    case $loaded in
        "$1"/*) ;;
        *) die "$2 loads libbtfm.so.1 from '$loaded', not from under $1" ;;
    esac
}

# Configure the consumer with the prefix of the libbtfm it uses, build it, install it
# into $destdir and run the installed copy.
consumer() { # consumer EXPECT_BTFM [SETUP_ARGS...]
    expect=$1
    shift
    step "configure the consumer (btfm expected as $expect)"
    run "$meson" setup "$tmp/build" "$tmp/consumer" --prefix "$prefix" \
        -Dexpect_btfm="$expect" "$@"
    step "build the consumer"
    run "$meson" compile -C "$tmp/build"
    step "install the consumer into $destdir and run the installed program"
    run "$meson" install -C "$tmp/build" --no-rebuild --destdir "$destdir"
    installed=$destdir$prefix/bin/btfm-consumer
    [ -x "$installed" ] || die "no installed $installed"
    check_loaded "$destdir" "$installed"
    run "$installed"
}

case $mode in
pkgconfig)
    # `meson test` builds only what the tests use, so installing may need a build
    # first; `ninja test` has built everything and runs this inside ninja, where a
    # second ninja must not write the same build folder. Hence: rebuild only if
    # ninja's dry run (which writes nothing) finds work.
    step "install $build into a temporary DESTDIR"
    rebuild=--no-rebuild
    if ! "${NINJA:-ninja}" -C "$build" -n | grep -q '^ninja: no work to do'; then
        rebuild=
    fi
    run "$meson" install -C "$build" $rebuild --skip-subprojects --destdir "$destdir"
    pc=$(find "$destdir" -name btfm.pc | head -n 1)
    [ -n "$pc" ] || die "no btfm.pc was installed under $destdir"
    prefix=$(sed -n 's/^prefix=//p' "$pc")
    pcdir=$(dirname "$pc")

    step "run the installed btfm, Lua module and Python package from $destdir$prefix"
    btfm=$destdir$prefix/bin/btfm
    check_loaded "$destdir" "$btfm"
    run "$btfm" version
    man=$(find "$destdir" -name btfm.1 | head -n 1)
    [ -n "$man" ] || die "no manual page btfm.1 was installed"
    lua_module=$(find "$destdir" -path '*/lua/*' -name btfm.so | head -n 1)
    if [ -n "$lua_module" ] && command -v lua5.4 >/dev/null; then
        check_loaded "$destdir" "$lua_module"
        LUA_CPATH="$(dirname "$lua_module")/?.so" run lua5.4 -e \
            'local b = require "btfm"; assert(b.has_capability("core")); print("lua: btfm " .. b.version())'
    fi
    package=$(find "$destdir" -path '*-packages/btfm/__init__.py' | head -n 1)
    if [ -n "$package" ]; then
        PYTHONPATH=$(dirname "$(dirname "$package")") run "${PYTHON:-/usr/bin/python3}" -c "
import btfm, sys
assert btfm.library_path.startswith('$destdir/'), btfm.library_path
print('python: btfm', btfm.version(), 'from', btfm.library_path)"
    fi

    step "find the installed libbtfm with pkg-config (PKG_CONFIG_PATH=$pcdir, sysroot $destdir)"
    PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$destdir
    export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
    run pkg-config --cflags --libs btfm
    consumer pkgconfig --wrap-mode=nofallback "$@"
    ;;
subproject|subproject:*)
    folder=${mode#subproject}
    folder=${folder#:}
    folder=${folder:-btfm}
    prefix=/usr/local
    step "make $source the consumer's subproject subprojects/$folder (a symlink)"
    run mkdir "$tmp/consumer/subprojects"
    run ln -s "$source" "$tmp/consumer/subprojects/$folder"
    if [ "$folder" != btfm ]; then
        # meson finds a subproject of another name than the dependency through a wrap
        # file that provides it (README.md, "Installing")
        printf '[wrap-file]\ndirectory = %s\n\n[provide]\ndependency_names = btfm\n' \
            "$folder" > "$tmp/consumer/subprojects/$folder.wrap"
        run cat "$tmp/consumer/subprojects/$folder.wrap"
    fi
    consumer internal --force-fallback-for=btfm "$@"
    so=$(find "$destdir" -name libbtfm.so.1 | head -n 1)
    [ -n "$so" ] || die "the subproject's libbtfm.so.1 was not installed"
    ;;
*)
    usage
    ;;
esac
step "OK: consumer ($mode) built, installed and ran"
