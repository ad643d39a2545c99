#!/bin/sh
# test/winstyle_handshake.sh - a program written as Windows code
# (test/winstyle/handshake.c: SECURITY_WIN32, <security.h>, unsigned long
# attributes, SAL annotations, unsuffixed names) is built against the
# installed library the way a porter would:
#   cc -std=c11 -Wall -Wextra -Werror handshake.c \
#      $(pkg-config --cflags --libs sspiasync-compat)
# after `make install DESTDIR=$tmp PREFIX=/usr`, then run under Valgrind
# (any error or leak, even a still-reachable block, fails), then uninstalled.
# Usage: sh test/winstyle_handshake.sh   (from anywhere; CC may be set)
set -eu

command -v valgrind >/dev/null 2>&1 || { echo "winstyle: valgrind is required" >&2; exit 1; }
cd "$(dirname "$0")/.."
CC=${CC:-cc}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM

make -s install DESTDIR="$dest" PREFIX=/usr
export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs sspiasync-compat)
echo "winstyle: pkg-config --cflags --libs sspiasync-compat -> $flags"
case "$flags" in *sspiasync/compat*) ;; *) echo "winstyle: compat include dir missing"; exit 1 ;; esac
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -Werror -o "$dest/handshake" test/winstyle/handshake.c $flags
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
	--show-leak-kinds=all "$dest/handshake"
make -s uninstall DESTDIR="$dest" PREFIX=/usr
left=$(find "$dest/usr" -type f | wc -l)
[ "$left" -eq 0 ] || { echo "winstyle: uninstall left $left files"; find "$dest/usr" -type f; exit 1; }
echo "winstyle: install, build with -Werror, handshake under valgrind, uninstall ok"
