#!/bin/sh
# Regenerate the ABI baselines from a build of a release: tests/abi/libbtfm.so.1.abi
# (abidw) and tests/abi/libbtfm.so.1.enums (values of the public enumerators).
# Only when a release is cut (doc/ABI.md), never to make the abi-compat test pass.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILDDIR  (a debug or debugoptimized build of the release)" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
library=$1/lib/libbtfm.so.1
python=/usr/bin/python3
[ -x "$python" ] || python=python3

echo "ABI baseline from $library"
"$python" "$here/abi_compat.py" dump "$library" "$root/include/btfm" "$here/libbtfm.so.1.abi"
nodes=$(sed -n "s/.*<elf-symbol name='[^']*' version='\([^']*\)'.*/\1/p" \
    "$here/libbtfm.so.1.abi" | sort -u | tr '\n' ' ')
echo "version nodes in the baseline: $nodes"
"$python" "$here/check_enums.py" --cc "${CC:-cc}" values "$root/include" \
    "$here/libbtfm.so.1.enums" --write
echo "Commit both with the release; the abi-compat and enum-values tests compare against them."
