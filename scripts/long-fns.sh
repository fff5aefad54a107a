#!/usr/bin/env bash
# Lists product functions longer than a limit (default 80 lines, signature to closing brace),
# longest first: `lines path:line name`. Test code is left out (files named tests.rs, folders
# named tests, `#[cfg(test)] mod … { }` blocks). A function whose doc comment or attributes
# carry a line `// long: <why>` is justified and listed only with --all (marked `(long: why)`).
# Exits 1 when an unjustified one is found, so CI can run it.
#
# Usage: scripts/long-fns.sh [--max N] [--all] [PATH ...]
#   PATH defaults to the product sources: core/src src enforcer/src prober/src.
# It reads rustfmt-formatted code: a body ends at the first `}` with the indentation of its `fn`.
set -euo pipefail

max=80
all=0
paths=()
while [ $# -gt 0 ]; do
    case "$1" in
    --max)
        max="${2:?--max takes a number of lines}"
        shift 2
        ;;
    --all)
        all=1
        shift
        ;;
    -h | --help)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        paths+=("$1")
        shift
        ;;
    esac
done
case "$max" in
'' | *[!0-9]*)
    echo "long-fns: --max takes a whole number of lines, not ${max:-nothing}" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."
[ ${#paths[@]} -gt 0 ] || paths=(core/src src enforcer/src prober/src)

found=$(
    find "${paths[@]}" -name '*.rs' ! -name tests.rs ! -path '*/tests/*' -print0 |
        sort -z |
        xargs -0 awk -v max="$max" -v all="$all" '
        function indent_of(s) { match(s, /^ */); return RLENGTH }
        FNR == 1 { depth_skip = -1; open_fn = 0; pending_reason = ""; cfg_test = 0 }
        {
            line = $0
            ind = indent_of(line)
            # Inside a #[cfg(test)] module: skip to its closing brace.
            if (depth_skip >= 0) {
                if (line ~ /^ *}$/ && ind == depth_skip) depth_skip = -1
                next
            }
            if (line ~ /^ *#\[cfg\(test\)\]/) { cfg_test = 1; next }
            if (cfg_test && line ~ /^ *(pub(\([a-z]+\))? )?mod [A-Za-z0-9_]+ \{$/) {
                depth_skip = ind; cfg_test = 0; next
            }
            if (line !~ /^ *#\[/) cfg_test = 0
            # A reason in the comments and attributes just above a function.
            if (!open_fn && line ~ /^ *\/\/ long: /) {
                pending_reason = line; sub(/^ *\/\/ long: /, "", pending_reason); next
            }
            if (!open_fn && line ~ /^ *(\/\/|#\[)/) next
            if (!open_fn && match(line, /^ *(pub(\([a-z:]+\))? )?(const )?(async )?(unsafe )?(extern "C" )?fn [A-Za-z0-9_]+/)) {
                name = substr(line, RSTART, RLENGTH); sub(/.*fn /, "", name)
                fn_ind = ind; start = FNR; reason = pending_reason; pending_reason = ""
                open_fn = 1; in_sig = 1
            } else if (!open_fn) {
                pending_reason = ""
            }
            if (open_fn && in_sig) {
                if (line ~ /; *$/) { open_fn = 0; next }      # no body
                if (line ~ /\} *$/) { open_fn = 0; next }    # a body on one line
                if (line ~ /\{ *$/) in_sig = 0
                next
            }
            if (open_fn && line ~ /^ *} *$/ && ind == fn_ind) {
                n = FNR - start + 1
                open_fn = 0
                if (n > max && (reason == "" || all)) {
                    printf "%d %s:%d %s%s\n", n, FILENAME, start, name, (reason == "" ? "" : " (long: " reason ")")
                }
            }
        }' | sort -rn
)
if [ -n "$found" ]; then
    echo "$found"
fi
if echo "$found" | grep -qv '(long: ' && [ -n "$found" ]; then
    exit 1
fi
exit 0
