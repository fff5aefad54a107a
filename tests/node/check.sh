#!/bin/sh
# Installs the reference parsers (once) and checks one output file: check.sh mermaid|sarif|xml FILE
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/mermaid" ]; then
  npm ci --prefix "$here" --no-audit --no-fund >&2
fi
exec node "$here/check.mjs" "$@"
