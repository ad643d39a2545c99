#!/bin/sh
# test/census.sh LIB - the census of Microsoft's sspi.h, security.h and
# secext.h (make check-census): every name of test/census/names.tsv (the
# facts, written by test/census/extract.sh from mingw-w64's headers) is
# either provided by this tree's headers with Microsoft's type, layout and
# value, or listed in README.md's porting notes as not provided, under a
# reason.
#
# How: test/census/gen.awk writes one probe of every name, which includes
# <security.h> the ported way (SECURITY_WIN32, -Iinclude/sspiasync/compat)
# and is compiled -std=c11 -Wall -Wextra -Wpedantic -Werror, linked with LIB
# (and $SA_LIBS) and run, twice: without UNICODE (pass A) and with it (pass
# W).  A name whose checks fail to compile or link is found from the
# compiler's line numbers, left out, and the probe rebuilt until it builds;
# then a second probe says whether each of those names is declared at all
# (absent) or declared differently, and each one declared differently is
# compiled alone, so one broken name cannot blame another.  A name is
# provided when both passes accept it.
#
# Fails, naming each culprit, when a name is neither provided nor listed in
# README between <!-- census-not-provided:begin --> and
# <!-- census-not-provided:end --> (every `backticked` identifier there is
# listed, under a bullet "- **Reason** (N): ..." whose N counts its names);
# when a listed name is provided (remove it from README); when a listed name
# is not in the census; when a bullet's N is wrong; when README's counts
# (between <!-- census-counts:begin --> and <!-- census-counts:end -->,
# "N names: P provided, Q not provided") differ from the census's.  A listed
# name that the header declares, but not as Microsoft does, is printed as a
# note (README's reason must say so).  The last line sums it all up.
# Usage (from anywhere): SA_LIBS="$(LIB_LIBS)" sh test/census.sh build/libsspiasync.a
# (CC picks the compiler; CENSUS_TSV and CENSUS_README replace names.tsv and
# README.md, to try the census itself on altered facts or lists.)
set -eu

abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
lib=$(abs "$1")
tsv=$(abs "${CENSUS_TSV:-$(dirname "$0")/census/names.tsv}")
readme=$(abs "${CENSUS_README:-$(dirname "$0")/../README.md}")
cd "$(dirname "$0")/.."
CC=${CC:-cc}
CFLAGS_CENSUS="-std=c11 -Wall -Wextra -Wpedantic -Werror -O0 -g -Iinclude -Iinclude/sspiasync/compat"
# Every error in one go (clang stops at 20 by default; gcc has no limit).
case $($CC --version 2>/dev/null) in *clang*) CFLAGS_CENSUS="$CFLAGS_CENSUS -ferror-limit=0" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
grep -v '^#' "$tsv" > "$tmp/names"

# blame FILE.c ERR MAP: "name<TAB>message" for every name whose probe lines a
# compiler or linker message of ERR points at (the first message wins).
blame() {
	awk -F'\t' -v src="$(basename "$1")" '
	FILENAME == ARGV[1] { for (l = $2; l <= $3; l++) owner[l] = $1; next }
	{
		line = $0
		if (line ~ / error: /) { lasterr = line; sub(/.* error: /, "", lasterr) }
		p = index(line, src ":")
		if (p == 0) next
		l = substr(line, p + length(src) + 1); sub(/[^0-9].*/, "", l)
		if (!((l + 0) in owner)) next
		msg = line
		if (msg ~ / error: /) sub(/.* error: /, "", msg)
		else if (msg ~ /undefined reference/) sub(/.*undefined reference/, "undefined reference", msg)
		else msg = lasterr
		n = owner[l + 0]
		if (!(n in seen)) { seen[n] = 1; print n "\t" msg }
	}' "$3" "$2"
}

# build PASS WHAT NAMES TAG: build the probe (WHAT: probe or exist) of the
# names in file NAMES until it builds; $tmp/TAG.out gets "name<TAB>why" for
# each name left out, $tmp/TAG.run the probe's own FAIL lines.
build() {
	b_pass=$1 b_what=$2 b_names=$3 b=$tmp/$4
	b_defs=""
	[ "$b_pass" = W ] && b_defs=-DUNICODE
	: > "$b.out"
	: > "$b.run"
	while :; do
		awk -v pass="$b_pass" -v what="$b_what" -v excl="$b.out" -v mapf="$b.map" \
			-f test/census/gen.awk "$b_names" > "$b.c"
		# shellcheck disable=SC2086 # word lists
		if $CC $CFLAGS_CENSUS $b_defs -c -o "$b.o" "$b.c" 2> "$b.err"; then
			[ "$b_what" = exist ] && return 0
			# shellcheck disable=SC2086
			if $CC -g -o "$b.bin" "$b.o" "$lib" ${SA_LIBS:--lnettle} -pthread 2> "$b.err"; then
				"$b.bin" > "$b.run" < /dev/null || { echo "census: the $b_pass probe crashed" >&2; exit 1; }
				return 0
			fi
		fi
		blame "$b.c" "$b.err" "$b.map" > "$b.blamed"
		if [ ! -s "$b.blamed" ]; then
			echo "census: the pass $b_pass $b_what probe fails outside any name:" >&2
			head -n 20 "$b.err" >&2
			exit 1
		fi
		cat "$b.blamed" >> "$b.out"
	done
}

# select LIST: the lines of $tmp/names whose name is in file LIST.
select_names() {
	awk -F'\t' 'FILENAME == ARGV[1] { want[$1] = 1; next } $1 in want' "$1" "$tmp/names"
}

# pass PASS: $tmp/PASS.result gets "name<TAB>PASS<TAB>absent|differs<TAB>why"
# for every name pass PASS does not accept.
pass() {
	p=$1
	r=$tmp/$p.result
	: > "$r"
	# A header that refuses the pass (#error) provides nothing in it.
	: > "$tmp/$p.empty.tsv"
	defs=""
	[ "$p" = W ] && defs=-DUNICODE
	awk -v pass="$p" -v what=probe -v mapf=/dev/null -f test/census/gen.awk "$tmp/$p.empty.tsv" > "$tmp/$p.empty.c"
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS_CENSUS $defs -c -o "$tmp/$p.empty.o" "$tmp/$p.empty.c" 2> "$tmp/$p.empty.err"; then
		why=$(grep -m 1 ' error: ' "$tmp/$p.empty.err" | sed 's/.* error: //')
		awk -F'\t' -v p="$p" -v why="the header refuses this pass: $why" '{ print $1 "\t" p "\tabsent\t" why }' \
			"$tmp/names" > "$r"
		return 0
	fi
	build "$p" probe "$tmp/names" "$p.1"
	awk -F'\t' -v p="$p" '{ print $2 "\t" p "\tdiffers\t" $3 }' "$tmp/$p.1.run" >> "$r"
	[ -s "$tmp/$p.1.out" ] || return 0
	# Left out: declared at all?
	select_names "$tmp/$p.1.out" > "$tmp/$p.culprits"
	build "$p" exist "$tmp/$p.culprits" "$p.x"
	awk -F'\t' -v p="$p" '{ print $1 "\t" p "\tabsent\t" $2 }' "$tmp/$p.x.out" >> "$r"
	# Declared differently: confirmed one name at a time.
	awk -F'\t' 'FILENAME == ARGV[1] { absent[$1] = 1; next } !($1 in absent)' \
		"$tmp/$p.x.out" "$tmp/$p.1.out" > "$tmp/$p.differs"
	: > "$tmp/$p.victims"
	while IFS='	' read -r n why; do
		printf '%s\n' "$n" > "$tmp/$p.one"
		select_names "$tmp/$p.one" > "$tmp/$p.one.tsv"
		build "$p" probe "$tmp/$p.one.tsv" "$p.one"
		if [ -s "$tmp/$p.one.out" ] || [ -s "$tmp/$p.one.run" ]; then
			printf '%s\t%s\tdiffers\t%s\n' "$n" "$p" "$why" >> "$r"
		else
			printf '%s\n' "$n" >> "$tmp/$p.victims"
		fi
	done < "$tmp/$p.differs"
	# Names that only failed beside a broken one: their own probe, once more.
	[ -s "$tmp/$p.victims" ] || return 0
	select_names "$tmp/$p.victims" > "$tmp/$p.victims.tsv"
	build "$p" probe "$tmp/$p.victims.tsv" "$p.2"
	awk -F'\t' -v p="$p" '{ print $1 "\t" p "\tdiffers\t" $2 }' "$tmp/$p.2.out" >> "$r"
	awk -F'\t' -v p="$p" '{ print $2 "\t" p "\tdiffers\t" $3 }' "$tmp/$p.2.run" >> "$r"
}

# README: the names listed as not provided, each under its bullet.
awk -v b='<!-- census-not-provided:begin -->' -v e='<!-- census-not-provided:end -->' \
    -v cb='<!-- census-counts:begin -->' -v ce='<!-- census-counts:end -->' \
    -v lf="$tmp/listed" -v gf="$tmp/groups" -v cf="$tmp/counts" '
	$0 == b { on = 1; seenb = 1; next }
	$0 == e { on = 0; next }
	$0 == cb { con = 1; next }
	$0 == ce { con = 0; next }
	con { counts = counts " " $0 }
	!on { next }
	/^- \*\*/ {
		g = $0; sub(/^- \*\*/, "", g); sub(/\*\*.*/, "", g)
		ng++; gname[ng] = g; gcount[ng] = 0
		d = $0; sub(/^- \*\*[^*]*\*\* *\(/, "", d)
		gdecl[ng] = (d ~ /^[0-9]+\)/) ? d + 0 : -1
	}
	{
		s = $0
		while (match(s, /`[A-Za-z_][A-Za-z0-9_]*`/)) {
			n = substr(s, RSTART + 1, RLENGTH - 2)
			s = substr(s, RSTART + RLENGTH)
			print n "\t" (ng ? gname[ng] : "") > lf
			if (ng) gcount[ng]++
		}
	}
	END {
		for (i = 1; i <= ng; i++) print gname[i] "\t" gdecl[i] "\t" gcount[i] > gf
		print (seenb ? "" : "missing") counts > cf
	}' "$readme"
touch "$tmp/listed" "$tmp/groups"

# The two passes at once (two cores); each is its own process.
pass A &
pid_a=$!
pass W &
pid_w=$!
st=0
wait "$pid_a" || st=1
wait "$pid_w" || st=1
[ "$st" = 0 ] || exit 1

cat "$tmp/A.result" "$tmp/W.result" > "$tmp/result"
awk -F'\t' -v counts="$(cat "$tmp/counts")" '
FILENAME == ARGV[1] { kind[$1] = $2; hdr[$1] = $3; order[++nn] = $1; next }
FILENAME == ARGV[2] {
	if ($1 in listed) { printf "census: %s is listed twice in README (%s, %s)\n", $1, listed[$1], $2; bad++ }
	listed[$1] = $2
	if ($2 == "") { printf "census: %s is listed in README outside a \"- **Reason** (N):\" bullet\n", $1; bad++ }
	next
}
FILENAME == ARGV[3] {
	if ($2 != $3) { printf "census: README bullet \"%s\" says (%s) but lists %d names\n", $1, ($2 < 0 ? "no count" : $2), $3; bad++ }
	groups[++ngr] = $1; gsize[$1] = $3
	next
}
{
	n = $1
	if (!((n, $2) in res)) { res[n, $2] = $3 ": " $4; st[n, $2] = $3 }
	notprov[n] = 1
	if ($3 == "differs") differs[n] = 1
}
END {
	if (counts ~ /^missing/) { print "census: README has no <!-- census-not-provided:begin --> block"; bad++ }
	for (n in listed) if (!(n in kind)) { printf "census: %s is listed in README but is not in the census (test/census/names.tsv)\n", n; bad++ }
	for (i = 1; i <= nn; i++) {
		n = order[i]
		why = ""
		if ((n, "A") in res) why = "A: " res[n, "A"]
		if ((n, "W") in res) why = why (why == "" ? "" : " | ") "W (UNICODE): " res[n, "W"]
		if (n in notprov) {
			np++
			if (n in differs) nd++
			if (!(n in listed)) {
				printf "census: %s (%s, %s.h) is neither provided nor listed in README: %s\n", n, kind[n], hdr[n], why
				bad++
			} else if (n in differs)
				printf "census: note: %s (listed: %s) is declared differently: %s\n", n, listed[n], why
		} else if (n in listed) {
			printf "census: %s is provided now: remove it from README'"'"'s not-provided list (%s)\n", n, listed[n]
			bad++
		}
	}
	p = nn - np
	want = nn " names: " p " provided, " np " not provided"
	c = counts; gsub(/[ \t]+/, " ", c)
	if (index(c, want) == 0) {
		printf "census: README'"'"'s counts (<!-- census-counts:begin -->) should read \"%s\"; they read \"%s\"\n", want, c
		bad++
	}
	line = "census: " want " (" nd + 0 " of them declared differently)"
	if (ngr) {
		line = line ";"
		for (i = 1; i <= ngr; i++) line = line (i > 1 ? ";" : "") " " groups[i] " " gsize[groups[i]]
	}
	print line
	if (bad) { printf "census: FAILED (%d problems)\n", bad; exit 1 }
}' "$tmp/names" "$tmp/listed" "$tmp/groups" "$tmp/result"
