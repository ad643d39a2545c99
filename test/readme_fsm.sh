#!/bin/sh
# test/readme_fsm.sh TOOL README - fail when README's lifecycle table is stale.
#
# Compares the lines strictly between "<!-- fsm-table:begin -->" and
# "<!-- fsm-table:end -->" in README with the output of TOOL (build/tools/
# fsm_table).  Exit 0 when they are identical; 1, with a unified diff
# (README's block first, the tool's output second), when they differ or a
# marker is missing; 2 on a usage error or when TOOL fails.
set -u

if [ "$#" -ne 2 ]; then
	echo "usage: $0 TOOL README" >&2
	exit 2
fi
tool=$1
readme=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/readme_fsm.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

if ! "$tool" > "$tmp/tool.md"; then
	echo "$0: $tool failed" >&2
	exit 2
fi

# Exactly one begin marker, then one end marker after it.
b=$(grep -n -x '<!-- fsm-table:begin -->' "$readme" | cut -d: -f1)
e=$(grep -n -x '<!-- fsm-table:end -->' "$readme" | cut -d: -f1)
case "$b:$e" in
*[!0-9:]* | :* | *:)
	echo "$0: $readme needs one '<!-- fsm-table:begin -->' line and one '<!-- fsm-table:end -->' line" >&2
	exit 1 ;;
esac
if [ "$b" -ge "$e" ]; then
	echo "$0: in $readme the end marker does not follow the begin marker" >&2
	exit 1
fi
awk -v b="$b" -v e="$e" 'NR > b && NR < e' "$readme" > "$tmp/readme.md"

if ! diff -u --label "$readme (fsm-table block)" --label "$tool output" \
	"$tmp/readme.md" "$tmp/tool.md"; then
	echo "$0: the lifecycle table in $readme is stale; replace the block with the output of $tool" >&2
	exit 1
fi
exit 0
