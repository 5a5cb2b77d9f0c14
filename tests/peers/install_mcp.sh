#!/usr/bin/env bash
# Installs the published MCP servers that tests/test_peer_mcp.py runs against (real peers for
# agentchat's MCP client, pinned to the versions the tests were written against):
#   - mcp-server-time and mcp-server-git (PyPI) in a venv of their own, .peers/mcp-py: they are
#     servers, not libraries of ours, and their pins must never move the project's own `mcp`;
#   - @modelcontextprotocol/server-everything (npm) in .peers/node. Without npm that part is skipped
#     with a message (its tests then skip too); nothing is fetched at test time (no `npx -y`).
#
# Idempotent and quiet: does nothing when the pinned versions are installed, prints one line per
# fresh install, and on failure exits non-zero with a one-line reason (the installer's log kept).
set -uo pipefail

TIME_VERSION=2026.10.19
GIT_VERSION=2026.10.19
EVERYTHING_VERSION=2026.8.31
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=$ROOT/.peers/mcp-py
NODE_DIR=$ROOT/.peers/node
EVERYTHING=@modelcontextprotocol/server-everything
# Markers are written last, so an interrupted install is never taken for a finished one.
PY_MARKER=$VENV/.installed-time-$TIME_VERSION-git-$GIT_VERSION
NODE_MARKER=$NODE_DIR/.installed-everything-$EVERYTHING_VERSION

fail() {
  echo "install_mcp.sh: $*" >&2
  exit 1
}

python_installed() {
  [ -f "$PY_MARKER" ] && [ -x "$VENV/bin/mcp-server-time" ] && [ -x "$VENV/bin/mcp-server-git" ] &&
    "$VENV/bin/python" -c "
import importlib.metadata as m, sys
sys.exit(m.version('mcp-server-time') != '$TIME_VERSION' or m.version('mcp-server-git') != '$GIT_VERSION')" \
      2>/dev/null
}

node_installed() {
  [ -f "$NODE_MARKER" ] && [ -x "$NODE_DIR/node_modules/.bin/mcp-server-everything" ] &&
    [ "$(node -p "require('$NODE_DIR/node_modules/$EVERYTHING/package.json').version" 2>/dev/null)" = \
      "$EVERYTHING_VERSION" ]
}

install_python() {
  local log=$VENV.install.log start=$SECONDS python=${PYTHON:-python3}
  command -v "$python" >/dev/null 2>&1 || fail "no $python to create the venv with"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")" || fail "cannot create $(dirname "$VENV")"
  "$python" -m venv "$VENV" >"$log" 2>&1 || fail "cannot create a venv at $VENV (see $log)"
  "$VENV/bin/pip" install --disable-pip-version-check -q \
    "mcp-server-time==$TIME_VERSION" "mcp-server-git==$GIT_VERSION" >>"$log" 2>&1 ||
    fail "pip could not install the MCP servers: $(grep -m1 '^ERROR' "$log" || tail -n1 "$log") (see $log)"
  touch "$PY_MARKER"
  python_installed || fail "mcp-server-time/git are not usable from $VENV after installing them (see $log)"
  echo "install_mcp.sh: mcp-server-time $TIME_VERSION and mcp-server-git $GIT_VERSION installed in $VENV" \
    "in $((SECONDS - start)) s"
}

npm_reason() { # npm's first line that says what went wrong (not its error code or where its log is)
  grep -E '^npm (ERR!|error) ' "$1" | grep -v -E '^npm (ERR!|error) (code |A complete log)' | head -n1 |
    grep . || tail -n1 "$1"
}

install_node() {
  local log=$NODE_DIR.install.log start=$SECONDS
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR" || fail "cannot create $NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --save-exact --loglevel=error \
    "$EVERYTHING@$EVERYTHING_VERSION" >"$log" 2>&1 ||
    fail "npm could not install $EVERYTHING@$EVERYTHING_VERSION: $(npm_reason "$log") (see $log)"
  touch "$NODE_MARKER"
  node_installed || fail "$EVERYTHING $EVERYTHING_VERSION is not usable from $NODE_DIR after installing it (see $log)"
  echo "install_mcp.sh: $EVERYTHING $EVERYTHING_VERSION installed in $NODE_DIR in $((SECONDS - start)) s"
}

python_installed || install_python
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "install_mcp.sh: npm or node not found: $EVERYTHING not installed, its tests will skip"
else
  node_installed || install_node
fi
exit 0
