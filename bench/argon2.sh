#!/usr/bin/env bash
# Figure 2: argon2id verifications per second with Stepdown's parameters, one thread (and all cores).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
OUT=$WORK/out
mkdir -p "$OUT"
wait_quiet
"$REL/bench-argon2" --seconds "${ARGON2_SECONDS:-10}" | tee "$OUT/argon2.txt"
