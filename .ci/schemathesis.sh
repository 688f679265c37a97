#!/usr/bin/env bash
# Schemathesis over every operation of the JSON API, against the real `stepdown` binary serving
# the demo center from a throwaway SQLite directory on 127.0.0.1 (see .ci/schemathesis.py):
# no 5xx on any input; status codes, content types and response bodies as the OpenAPI
# document says. Bounded: a few minutes on two cores.
#
#   .ci/schemathesis.sh [--max-examples N] [--max-time SECONDS] [--seed N] [--workers N]
#
# Installs Schemathesis from PyPI into a virtual environment under $HOME/.cache the first time.
set -euo pipefail

cd "$(dirname "$0")/.."

# Pinned, so that a new release cannot turn CI red on its own; raise it on purpose.
SCHEMATHESIS_VERSION="4.32.5"
VENV="${STEPDOWN_SCHEMATHESIS_VENV:-$HOME/.cache/stepdown-schemathesis-$SCHEMATHESIS_VERSION}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stepdown-target}"

if [[ ! -x "$VENV/bin/schemathesis" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$VENV/bin/schemathesis" --version

cargo build --quiet -p stepdown --bin stepdown
exec "$VENV/bin/python" .ci/schemathesis.py \
    --binary "$CARGO_TARGET_DIR/debug/stepdown" --schemathesis "$VENV/bin/schemathesis" "$@"
