#!/usr/bin/env bash
# Builds the release binaries once, then measures the three figures (see bench/RESULTS.md).
# Environment: CARGO_TARGET_DIR (default ~/.cache/stepdown-target), BENCH_WORK (default
# /tmp/stepdown-bench), BENCH_SECONDS (wrk duration, default 15), REGEN=1 to rebuild the 1 GB
# database, DROP_CACHES=0 to skip the dropped-page-cache cold starts, SKIP_BUILD=1 to measure the
# release binaries already built (e.g. while the tree is mid-edit and does not compile).
# The slower figures run only when asked: BENCH_SEARCH=1 (client search over 100,000 clients,
# SQLite and PostgreSQL; ~15 min with generation) and BENCH_CENSUS=1 (census board with 5 years of
# history; ~5 min). See bench/search.sh and bench/census.sh for their own settings.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p stepdown -p bench
fi
for bin in stepdown bench-gen-db bench-cold-start bench-argon2 bench-bare bench-gen-clients bench-search \
    bench-gen-census bench-census bench-scoring bench-chart bench-measures; do
    [ -x "$REL/$bin" ] || { echo "error: $REL/$bin is missing; build without SKIP_BUILD" >&2; exit 1; }
done
echo "binaries: $(ls -l --time-style=+%FT%T "$REL/stepdown" | awk '{print $6}') stepdown, $(git rev-parse --short HEAD) + working tree"
echo "### 1. cold start to ready on a ~1 GB database"
bench/cold-start.sh
echo "### 2. argon2id verifications per second"
bench/argon2.sh
echo "### 3. page render vs bare axum (and HTTP sign-ins per second)"
bench/page.sh
if [ "${BENCH_SEARCH:-0}" = 1 ]; then
    echo "### 4. client search over 100,000 clients (SQLite and PostgreSQL)"
    bench/search.sh
fi
echo "### 6. measurement: scoring, a two-year chart, the measures tab"
bench/measures.sh
if [ "${BENCH_CENSUS:-0}" = 1 ]; then
    echo "### 5. census board, 300 open episodes and 5 years of history"
    bench/census.sh
fi
echo
echo "Raw outputs are in $WORK/out"
