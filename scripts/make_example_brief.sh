#!/usr/bin/env bash
# Rebuild the example briefing pack, docs/example-brief/, from one command.
#
# The settings are fixed here (scenario, runs, seed, tornado runs, Sobol' N, formats, size)
# and recorded in the pack's brief.json; tests/test_example_brief.py re-runs them and
# fails when the pack no longer matches the code. Run this after any change that
# moves the results or the wording, and commit the new pack.
set -euo pipefail
cd "$(dirname "$0")/.."

out=docs/example-brief
tmp="$out.new"
rm -rf "$tmp"
# Written beside the old pack and swapped in only when complete, so a failure leaves
# the old pack as it was and no file of an earlier chart set lingers.
nice -n 10 python3 -m model.cli brief baseline --out "$tmp" --runs 2000 --seed 20130313 \
    --sensitivity-runs 1000 --sobol-n 1024 --format png,svg,pdf --size slide
rm -rf "$out"
mv "$tmp" "$out"
echo "Rebuilt $out ($(du -sh "$out" | cut -f1))"
