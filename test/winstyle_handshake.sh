#!/bin/sh
# test/winstyle_handshake.sh - programs written as Windows code, built against
# the installed library the way a porter would, after
# `make install DESTDIR=$tmp PREFIX=/usr`, through
#   cc ... $(pkg-config --cflags --libs sspiasync-compat)
# and run under Valgrind (any error or leak, even a still-reachable block,
# fails); then the library is uninstalled and nothing may be left.
#  - test/winstyle/handshake.c: SECURITY_WIN32, <security.h>, unsigned long
#    attributes, SAL annotations, unsuffixed names; -Werror.
#  - test/winstyle/porting.c (issue 22, item 6): every call through
#    InitSecurityInterface()'s table, an EX identity, ISC_REQ_ALLOCATE_MEMORY,
#    grow-and-retry on SEC_E_BUFFER_TOO_SMALL; built ANSI and with -DUNICODE
#    (-Wpedantic -Werror), each run for "SspiAsyncTest" and "NTLM" (whose
#    acceptor reads the user file written here, NTLM_USER_FILE).
# Usage: sh test/winstyle_handshake.sh   (from anywhere; CC, MAKE and B, the
# build directory `make install` uses, may be set)
set -eu

command -v valgrind >/dev/null 2>&1 || { echo "winstyle: valgrind is required" >&2; exit 1; }
cd "$(dirname "$0")/.."
CC=${CC:-cc}
MAKE=${MAKE:-make}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM
memcheck() {
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
		--show-leak-kinds=all "$@"
}

$MAKE -s install DESTDIR="$dest" PREFIX=/usr
export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs sspiasync-compat)
echo "winstyle: pkg-config --cflags --libs sspiasync-compat -> $flags"
case "$flags" in *sspiasync/compat*) ;; *) echo "winstyle: compat include dir missing"; exit 1 ;; esac
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -Werror -o "$dest/handshake" test/winstyle/handshake.c $flags
memcheck "$dest/handshake"

# porting.c's user, in gss-ntlmssp's format (UTF-8: p<a-umlaut>ss:w<o-umlaut>rd).
printf 'WINSTYLE:porter:p\303\244ss:w\303\266rd\n' > "$dest/ntlm_users"
for form in ansi unicode; do
	def=
	[ "$form" = unicode ] && def=-DUNICODE
	# shellcheck disable=SC2086
	$CC -std=c11 -Wall -Wextra -Wpedantic -Werror $def -o "$dest/porting-$form" \
		test/winstyle/porting.c $flags
	for pkg in SspiAsyncTest NTLM; do
		echo "winstyle: porting ($form) $pkg"
		NTLM_USER_FILE="$dest/ntlm_users" memcheck "$dest/porting-$form" "$pkg"
	done
done

$MAKE -s uninstall DESTDIR="$dest" PREFIX=/usr
left=$(find "$dest/usr" -type f | wc -l)
[ "$left" -eq 0 ] || { echo "winstyle: uninstall left $left files"; find "$dest/usr" -type f; exit 1; }
echo "winstyle: install, handshake and porting (ANSI and UNICODE, SspiAsyncTest and NTLM) built with -Werror, Valgrind-clean, uninstall ok"
