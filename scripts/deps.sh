#!/bin/sh
# Install the Debian packages libbtfm needs to build and test, if any are missing.
# Run as root (or with sudo available). Debian 12 (bookworm).
set -eu
packages="meson ninja-build pkg-config gcc g++ clang libclang-rt-14-dev
  zlib1g-dev libopenblas-dev liblapacke-dev libnifti2-dev check
  liblua5.4-dev lua5.4 abigail-tools valgrind
  python3 python3-numpy python3-scipy python3-pytest python3-setuptools python3-pip python3-wheel
  python3-mne python3-sklearn python3-nibabel libedf-dev hyperfine locales
  libhdf5-dev python3-h5py libisal-dev
  libopenmpi-dev openmpi-bin python3-mpi4py"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
