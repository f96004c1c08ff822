#!/usr/bin/env bash
# Recompress the snapshot images losslessly (optipng: the same pixels, about half the bytes).
# Run after `UPDATE_SNAPSHOTS=1 cargo test --test snapshots`; the snapshot test compares pixels,
# so the smaller files pass the same. Needs Debian's optipng (apt-get install optipng).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v optipng >/dev/null || { echo "shrink-snapshots: optipng missing (apt-get install optipng)" >&2; exit 2; }
ls tests/snapshots/*.png | grep -v -E '\.(diff|new|old)\.png$' | xargs -P "$(nproc)" -n 8 optipng -quiet -o2
du -sh tests/snapshots
