#!/bin/sh
# fuzz/make_seeds.sh - regenerate the seed corpus fuzz/corpus/ from the
# emitters in fuzz/api_fuzz.c (built with -DFUZZ_GEN: no library needed).
# The seeds are committed; rerun this only when the op encoding changes.
set -eu
cd "$(dirname "$0")/.."
CC_GEN=${CC_GEN:-${CC:-cc}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$CC_GEN" -std=c11 -D_POSIX_C_SOURCE=200809L -DFUZZ_GEN -Iinclude -Isrc \
	-o "$tmp/make_seeds" fuzz/api_fuzz.c
rm -rf fuzz/corpus
"$tmp/make_seeds" fuzz/corpus
echo "seeds: $(ls fuzz/corpus | wc -l) files in fuzz/corpus"
