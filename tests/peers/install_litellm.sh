#!/usr/bin/env bash
# Installs the LiteLLM proxy, a real peer for the Anthropic adapter (tests/test_peer_litellm.py),
# into its own venv: its pins (openai 2.x, httpx, pydantic, fastapi...) conflict with ours.
#
# Pinned on purpose: newer releases need a companion package the registry lacks, and 1.107.0 was
# a compromised release. Never unpin it or install it anywhere else.
#
# Idempotent and quiet: does nothing when the pinned version is already installed, prints one line
# after a fresh install, and on failure exits non-zero with a one-line reason (pip's log kept).
# LITELLM_VENV overrides the venv's place (default: .peers/litellm in the repo, gitignored).
set -uo pipefail

VERSION=1.106.12
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${LITELLM_VENV:-$ROOT/.peers/litellm}
# Written last, so an interrupted install is never taken for a finished one.
MARKER=$VENV/.installed-litellm-$VERSION
LOG=$VENV.install.log

fail() {
  echo "install_litellm.sh: $*" >&2
  exit 1
}

installed() {
  [ -f "$MARKER" ] && [ -x "$VENV/bin/litellm" ] &&
    "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$VERSION')" \
      2>/dev/null
}

installed && exit 0

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || fail "no $PYTHON to create the venv with"
start=$SECONDS
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")" || fail "cannot create $(dirname "$VENV")"
"$PYTHON" -m venv "$VENV" >"$LOG" 2>&1 || fail "cannot create a venv at $VENV (see $LOG)"
"$VENV/bin/pip" install --disable-pip-version-check -q "litellm[proxy]==$VERSION" >>"$LOG" 2>&1 ||
  fail "pip could not install litellm[proxy]==$VERSION: $(grep -m1 '^ERROR' "$LOG" || tail -n1 "$LOG") (see $LOG)"
touch "$MARKER"
installed || fail "litellm $VERSION is not usable from $VENV after installing it (see $LOG)"
echo "install_litellm.sh: litellm $VERSION installed in $VENV in $((SECONDS - start)) s"
