#!/bin/sh
# Smoke test of `flowc lsp` in Neovim: plays a user's session on a scratch copy of
# examples/expense through editors/nvim (ftplugin + Neovim's LSP client) and checks the answers.
#
#   editors/nvim/test/run.sh PATH/TO/flowc [PATH/TO/nvim]     (nvim >= 0.10; default: nvim on PATH)
#
# Builds nothing. Exits 0 when every expectation holds, 1 otherwise; FLOWC_SMOKE_VERBOSE=1 prints
# the raw LSP answers too. Output of the last run is also left in $TMPDIR/flowc-nvim-smoke.log.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PATH/TO/flowc [PATH/TO/nvim]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
nvim_dir=$(dirname "$here")
repo=$(dirname "$(dirname "$nvim_dir")")
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
nvim=${2:-nvim}

[ -x "$flowc" ] || { echo "$0: $flowc is not an executable" >&2; exit 2; }
command -v "$nvim" >/dev/null 2>&1 || { echo "$0: $nvim not found" >&2; exit 2; }
if ! "$nvim" --headless -u NONE -c 'if has("nvim-0.10") | qall! | else | cquit! | endif' >/dev/null 2>&1; then
  echo "$0: $("$nvim" --version | head -1) is too old; the smoke test needs Neovim >= 0.10" >&2
  exit 2
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/flowc-nvim-smoke.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
cp -r "$repo/examples/expense" "$scratch/"
# Keep Neovim's state (LSP log, shada, swap) out of the user's home.
mkdir -p "$scratch/state" "$scratch/data" "$scratch/config"
log=${TMPDIR:-/tmp}/flowc-nvim-smoke.log

status=0
XDG_STATE_HOME=$scratch/state XDG_DATA_HOME=$scratch/data XDG_CONFIG_HOME=$scratch/config \
FLOWC_SMOKE_FILE=$scratch/expense/expense.flow \
  timeout 300 "$nvim" --headless -u NONE -i NONE -n \
    -c "set rtp^=$nvim_dir" -c 'filetype plugin on' \
    -c "lua vim.g.flowc_cmd = { [[$flowc]], 'lsp' }" \
    -c "luafile $here/smoke.lua" >"$log" 2>&1 || status=$?
cat "$log"
lsp_log=$(find "$scratch/state" -name 'lsp.log' 2>/dev/null | head -1)
if [ -n "$lsp_log" ] && grep -q 'ERROR' "$lsp_log"; then
  echo
  echo "Errors in Neovim's LSP log ($lsp_log):"
  grep 'ERROR' "$lsp_log" | head -20
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "flowc nvim smoke test: FAILED (status $status)" >&2
fi
exit "$status"
