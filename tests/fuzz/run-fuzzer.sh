#!/bin/sh
# run-fuzzer.sh FUZZER CORPUS SECONDS MAX_LEN: a short libFuzzer run from a scratch copy of the
# corpus. A crash input is copied into the corpus folder of the source tree, where the
# replay tests keep it as a regression fixture.
set -eu
fuzzer=$1 corpus=$2 seconds=$3 max_len=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$corpus"/. "$work"/ 2>/dev/null || true
mkdir -p "$work/artifacts"
if "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work"; then
  echo "fuzz: no crash in $seconds s"
else
  status=$?
  for f in "$work"/artifacts/*; do
    [ -e "$f" ] || continue
    cp "$f" "$corpus/regression-$(basename "$f")"
    echo "fuzz: crash input saved as $corpus/regression-$(basename "$f")"
  done
  exit $status
fi
