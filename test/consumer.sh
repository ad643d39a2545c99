#!/bin/sh
# test/consumer.sh - install into a temporary DESTDIR with PREFIX=/usr and
# build an outside program the way a user would:
#   cc -std=c11 -Wall -Werror prog.c $(pkg-config --cflags --libs sspiasync)
# with PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR pointing into the DESTDIR;
# then uninstall and check that nothing of ours is left.
set -eu
CC=${CC:-cc}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s install DESTDIR="$dest" PREFIX=/usr
export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs sspiasync)
echo "consumer: pkg-config --cflags --libs sspiasync -> $flags"
case "$flags" in *-pthread*) ;; *) echo "consumer: -pthread missing from pkg-config --libs"; exit 1 ;; esac
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -Werror -o "$dest/prog" test/consumer/prog.c $flags
"$dest/prog"
make -s uninstall DESTDIR="$dest" PREFIX=/usr
left=$(find "$dest/usr" -type f | wc -l)
[ "$left" -eq 0 ] || { echo "consumer: uninstall left $left files"; find "$dest/usr" -type f; exit 1; }
echo "consumer: install, build, run, uninstall ok"
