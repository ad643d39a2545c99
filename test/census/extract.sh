#!/bin/sh
# test/census/extract.sh - regenerate test/census/names.tsv, the census's fact
# list, from a reference set of Windows headers: mingw-w64's sspi.h,
# security.h and secext.h (Debian: apt-get install mingw-w64-common).
#
# Run by hand when the reference headers change, never in CI (CI has no
# mingw-w64); commit the names.tsv it writes:
#     sh test/census/extract.sh [MINGW_INCLUDE_DIR]   (default /usr/share/mingw-w64/include)
# test/census.sh (make check-census) reads names.tsv; README's porting notes
# say which names the library does not provide, and why.
#
# How: the three headers are preprocessed by the host gcc with a small shim of
# mingw's base types and helper headers (written below, nothing of mingw's is
# copied), once per mode: user mode (SECURITY_WIN32, the census's reference),
# user mode with UNICODE (the W side of TCHAR-dependent names), kernel mode
# (SECURITY_KERNEL: names only it declares), Windows 9x (WIN32_CHICAGO:
# QWORD and SEC_SUCCESS) and _SEC_WINNT_AUTH_TYPES (the packed-credential
# GUIDs and structs).  `gcc -E -dM` gives the macros, `gcc -E` the
# declarations (parsed by the awk below), and a generated host program the
# numeric values, computed with Windows x64's type widths (LLP64: LONG and
# ULONG 32 bits, ULONG_PTR 64).  A name takes its facts from the first mode
# that defines it, in the order above; the note column says which.
#
# Text normalisation (facts, not code): `__LONG32` becomes `long` (the
# library writes `unsigned long` where Microsoft does), wchar_t becomes WCHAR
# (Windows' 16-bit wchar_t; Linux's is 32), VOID/CONST become void/const,
# SEC_ENTRY, WINAPI, NTAPI, __declspec(...) and KSECDDDECLSPEC disappear,
# ANYSIZE_ARRAY is 1, `()` is `(void)`.  Every other type name (SEC_WCHAR,
# LPWSTR, ULONG, GUID, ...) stays as written: the header must define it.
#
# Not in the census (skipped below): identifiers starting with two
# underscores (include guards __SSPI_H__/__SECEXT_H__, mingw's own
# __SECSTATUS_DEFINED__/__SECHANDLE_DEFINED__, __SEC_FAR; reserved names that
# no program should use), the _AUTH_IDENTITY*_DEFINED guards (guards shared
# with rpcdce.h, not API), and struct/union/enum tags (`struct _SecHandle`):
# ported code names the typedefs.  `_`-names that are not tags are in:
# _SECURITY_INTEGER (a typedef) and _SEC_WINNT_AUTH_IDENTITY (an A/W macro
# naming tags).
#
# names.tsv columns (tab-separated; `-` for empty):
#   name  kind  header  fact  wfact  note
# kind and fact:
#   int      numeric macro or enum constant; fact: its value, decimal
#   str      string macro; fact: narrow|wide|tchar:TEXT (tchar: narrow
#            without UNICODE, wide with it, as SEC_TEXT("..."))
#   aw       A/W-mapping macro; fact: TARGETKIND:ANAME:WNAME, TARGETKIND is
#            func, type, tag (a struct tag) or macro
#   alias    macro naming one function or type; fact: TARGETKIND:NAME
#   fnmacro  function-like macro (or one naming a function-like macro)
#   defined  object-like macro with an empty or non-C expansion
#   type     typedef; fact: its declaration with @ for the name (`SEC_CHAR
#            *@`, `void (*@)(void *Arg, ...)`), or `enum` for an enum type
#   struct, union  typedef of a struct/union; fact: field=TYPE;... in order
#   func     function prototype; fact: the declaration with @ for the name
#   guid     GUID constant; fact: its initializer
# wfact: the fact under UNICODE when it differs (type, str), else `-`.
# note: kernel (declared in kernel mode only), chicago (Windows 9x only),
#   authtypes (declared only when the program defines _SEC_WINNT_AUTH_TYPES),
#   kstring (a kernel-mode prototype whose PSECURITY_STRING parameters the
#   library's user-mode W form takes as SEC_WCHAR *: the probe substitutes),
#   noA/noW (an A/W macro whose A/W target the headers never define: on
#   Windows that side does not compile; the probe only wants the name).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
inc=${1:-/usr/share/mingw-w64/include}
out=$here/names.tsv
CC=${CC:-gcc}
for h in sspi.h security.h secext.h; do
	[ -r "$inc/$h" ] || { echo "extract.sh: no $inc/$h (apt-get install mingw-w64-common)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cp "$inc/sspi.h" "$inc/security.h" "$inc/secext.h" "$tmp/"

# --- the shim: mingw's helper headers and Windows' base types ---------------
cat > "$tmp/_mingw_unicode.h" <<'SHIM'
#ifdef UNICODE
#define __MINGW_NAME_AW(n) n##W
#define __MINGW_NAME_UAW(n) n##_W
#else
#define __MINGW_NAME_AW(n) n##A
#define __MINGW_NAME_UAW(n) n##_A
#endif
SHIM
cat > "$tmp/winapifamily.h" <<'SHIM'
#define WINAPI_FAMILY_PARTITION(p) 1
#define WINAPI_PARTITION_DESKTOP 1
SHIM
: > "$tmp/ntsecapi.h"
cat > "$tmp/census_base.h" <<'SHIM'
/* Extraction: __LONG32 reads `long`; evaluation: Windows' 32 bits. */
#ifdef CENSUS_EVAL
#define __LONG32 int
#else
#define __LONG32 long
#endif
#define __int64 long long
#define __MINGW_EXTENSION
#define __stdcall
#define __declspec(x)
#define NTAPI
#define EXTERN_C extern
#define VOID void
#define CONST const
#define ANYSIZE_ARRAY 1
#define wchar_t WCHAR
#define _WINNT_ 1
#define NTDDI_WIN7 0x06010000
#define NTDDI_WINBLUE 0x06030000
#define NTDDI_VERSION 0x0A000000
#ifdef UNICODE
#define TEXT(s) L##s
#else
#define TEXT(s) s
#endif
typedef char CHAR;
typedef unsigned char UCHAR, *PUCHAR;
typedef unsigned short USHORT, WCHAR;
typedef __LONG32 LONG;
typedef unsigned __LONG32 ULONG, *PULONG;
typedef long long LONGLONG, INT_PTR;
typedef unsigned long long ULONG64, ULONG_PTR;
typedef void *PVOID, *HANDLE;
typedef unsigned char BOOLEAN, *PBOOLEAN;
typedef CHAR *LPSTR;
typedef const CHAR *LPCSTR, *PCSTR;
typedef WCHAR *LPWSTR, *PWSTR;
typedef const WCHAR *LPCWSTR, *PCWSTR;
typedef LONG NTSTATUS;
typedef union { struct { ULONG LowPart; LONG HighPart; } u; LONGLONG QuadPart; } LARGE_INTEGER;
typedef struct { ULONG LowPart; LONG HighPart; } LUID;
typedef struct { ULONG Data1; USHORT Data2, Data3; UCHAR Data4[8]; } GUID;
typedef struct { USHORT Length, MaximumLength; WCHAR *Buffer; } UNICODE_STRING, *PUNICODE_STRING;
typedef void *PSID;
typedef int SID_NAME_USE, *PSID_NAME_USE, WELL_KNOWN_SID_TYPE;
SHIM
echo '#include <security.h>' > "$tmp/census_main.c"

# Modes, in priority order: name, flags.
modes='user:-DSECURITY_WIN32
userw:-DSECURITY_WIN32 -DUNICODE
kernel:-DSECURITY_KERNEL
chicago:-DSECURITY_WIN32 -DWIN32_CHICAGO
authtypes:-DSECURITY_WIN32 -D_SEC_WINNT_AUTH_TYPES'

pp() { # pp FLAGS... : preprocess the three headers through the shim
	$CC -E -I"$tmp" -include "$tmp/census_base.h" "$@" "$tmp/census_main.c"
}

# --- declarations: decl.awk splits `gcc -E` output into top-level declarations
cat > "$tmp/decl.awk" <<'AWK'
# decl.awk: the declarations of a `gcc -E` run, from the three headers only.
# Out: name TAB kind TAB header TAB line TAB fact (kinds as in names.tsv, plus
# `enumconst` for enum constants, whose values the host program computes).
function emit(name, kind, fact) {
	if (name in seen) return
	seen[name] = 1
	printf "%s\t%s\t%s\t%d\t%s\n", name, kind, dfile, dline, fact
}
function isid(t) { return t ~ /^[A-Za-z_][A-Za-z0-9_]*$/ }
# fmt(a, from, to): tokens a[from..to] as canonical C text.
function fmt(a, from, to,    i, s, p, c) {
	s = ""; p = ""
	for (i = from; i <= to; i++) {
		c = a[i]
		if (s != "" && !(p == "(" || p == "[" || p == "*" || c == ")" || c == "]" || c == "," || c == "[" || (c == "(" && (p == "@" || p == ")"))))
			s = s " "
		s = s c
		p = c
	}
	return s
}
function fail(msg) { printf "decl.awk: %s:%d: %s\n", dfile, dline, msg > "/dev/stderr"; bad = 1 }
# decls(a, from, to, base, kind): the declarators d1, *d2, ... of a typedef.
function decls(a, from, to, base, kind, fields,    i, j, st, nm, first) {
	first = ""
	i = from
	while (i <= to) {
		st = ""
		while (a[i] == "*") { st = st "*"; i++ }
		nm = a[i++]
		if (!isid(nm)) { fail("declarator " nm); return }
		if (i <= to && a[i] != ",") { fail("declarator " nm " followed by " a[i]); return }
		i++
		if (st == "" && first == "") {
			first = nm
			if (kind == "struct" || kind == "union") emit(nm, kind, fields)
			else if (kind == "enum") emit(nm, "type", "enum")
			else emit(nm, "type", base (base ~ /\*$/ ? "" : " ") "@")
		} else if (first != "" && kind != "") {
			emit(nm, "type", first (st == "" ? " @" : " " st "@"))
		} else {
			emit(nm, "type", base " " st "@")
		}
	}
}
# fieldlist(a, from, to): struct body -> "f1=T1;f2=T2"
function fieldlist(a, from, to,    i, s, e, k, nm, ty, out) {
	out = ""
	s = from
	for (i = from; i <= to; i++) {
		if (a[i] == "{") { fail("nested aggregate"); return "" }
		if (a[i] != ";") continue
		e = i - 1
		if (a[e] == "]") {
			for (k = e; a[k] != "["; k--) ;
			nm = a[k - 1]
			ty = fmt(a, s, k - 2) fmt(a, k, e)
		} else {
			nm = a[e]
			ty = fmt(a, s, e - 1)
		}
		for (k = s; k < e; k++) if (a[k] == ",") fail("several declarators in one field")
		if (!isid(nm)) fail("field " nm)
		out = out (out == "" ? "" : ";") nm "=" ty
		s = i + 1
	}
	return out
}
function enumlist(a, from, to,    i, s) {
	s = 1
	for (i = from; i <= to; i++) {
		if (s && isid(a[i])) emit(a[i], "enumconst", "-")
		s = (a[i] == ",")
	}
}
function decl(d,    a, n, i, k, kw, tag, body, cl, nm, base, t) {
	gsub(/[(){}\[\],;=*]/, " & ", d)
	gsub(/[ \t]+/, " ", d)
	sub(/^ /, "", d); sub(/ $/, "", d)
	if (d == "") return
	n = split(d, a, " ")
	if (a[1] == "typedef") {
		kw = a[2]
		if (kw == "struct" || kw == "union" || kw == "enum") {
			if (a[3] == "{") { tag = ""; body = 4 }
			else if (a[4] == "{") { tag = a[3]; body = 5 }
			else { decls(a, 4, n, kw " " a[3], ""); return }
			k = 1
			for (cl = body; cl <= n; cl++) {
				if (a[cl] == "{") k++
				if (a[cl] == "}" && --k == 0) break
			}
			if (kw == "enum") { enumlist(a, body, cl - 1); decls(a, cl + 1, n, "", "enum"); return }
			decls(a, cl + 1, n, "", kw, fieldlist(a, body, cl - 1))
			return
		}
		for (i = 2; i <= n; i++) if (a[i] == "(") break
		if (i <= n) {               # function-pointer typedef: R (*NAME)(P)
			if (a[i + 1] != "*" || !isid(a[i + 2]) || a[i + 3] != ")") { fail("typedef " d); return }
			nm = a[i + 2]; a[i + 2] = "@"
			if (a[i + 5] == ")") { n++; for (k = n; k > i + 5; k--) a[k] = a[k - 1]; a[i + 5] = "void" }
			emit(nm, "type", fmt(a, 2, n))
			return
		}
		for (i = 2; i <= n; i++) if (a[i] == ",") break
		k = i - 1                     # the first declarator's name
		for (i = k - 1; a[i] == "*"; i--) ;
		base = fmt(a, 2, i)
		decls(a, i + 1, n, base, "")
		return
	}
	for (i = 1; i <= n; i++) if (a[i] == "=") break
	if (i <= n) {                       # an object with an initializer
		nm = a[i - 1]
		t = ""
		for (k = i + 1; k <= n; k++) t = t a[k]
		if (!(a[i - 2] == "GUID")) { fail("object " d); return }
		emit(nm, "guid", t)
		return
	}
	for (i = 1; i <= n; i++) if (a[i] == "(") break
	if (i > n || !isid(a[i - 1])) { fail("declaration " d); return }
	nm = a[i - 1]; a[i - 1] = "@"
	if (a[i + 1] == ")") { n++; for (k = n; k > i + 1; k--) a[k] = a[k - 1]; a[i + 1] = "void" }
	k = 1
	if (a[1] == "extern") k = 2
	emit(nm, "func", fmt(a, k, n))
}
/^# [0-9]+ "/ {
	dfile0 = $3; gsub(/"/, "", dfile0); sub(/.*\//, "", dfile0)
	file = dfile0; line = $2 - 1
	next
}
{ line++ }
file != "sspi.h" && file != "security.h" && file != "secext.h" { next }
{
	s = $0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (buf == "" && c ~ /[ \t]/) continue
		if (buf == "") { dfile = file; dline = line }
		if (c == "{") depth++
		else if (c == "}") depth--
		if (c == ";" && depth == 0) { decl(buf); buf = ""; continue }
		buf = buf c
	}
	if (buf != "") buf = buf " "
}
END { if (buf ~ /[^ ]/) fail("unterminated: " buf); exit bad }
AWK

# --- every mode: declarations, macro definitions, macro expansions ----------
# The macros the three headers define (#define lines), first definition wins.
for h in sspi.h security.h secext.h; do
	awk -v h="${h%.h}" '/^[ \t]*#[ \t]*define[ \t]+/ {
		n = $0; sub(/^[ \t]*#[ \t]*define[ \t]+/, "", n); sub(/[^A-Za-z0-9_].*/, "", n)
		print n "\t" h "\t" FNR }' "$tmp/$h"
done | awk '!($1 in s) { s[$1] = 1; print }' > "$tmp/src.mac"
{
	echo '#include <security.h>'
	awk '{ print "census_exp \"" $1 "\" " $1 }' "$tmp/src.mac"
} > "$tmp/census_exp.c"

echo "$modes" | while IFS=: read -r m flags; do
	# shellcheck disable=SC2086 # flags are words
	pp $flags > "$tmp/$m.i"
	awk -f "$tmp/decl.awk" "$tmp/$m.i" > "$tmp/$m.decl"
	sed "s/^/$m	decl	/" "$tmp/$m.decl"
	# shellcheck disable=SC2086
	pp -dM $flags > "$tmp/$m.dm"
	sed "s/^/$m	dm	/" "$tmp/$m.dm"
	# shellcheck disable=SC2086
	$CC -E -P -I"$tmp" -include "$tmp/census_base.h" $flags "$tmp/census_exp.c" > "$tmp/$m.exp"
	sed -n "s/^census_exp \"\\([A-Za-z0-9_]*\\)\" *\\(.*\\)\$/$m	exp	\\1	\\2/p" "$tmp/$m.exp"
done > "$tmp/facts"

# --- classify: one record per name ------------------------------------------
# Out: name kind header line fact wfact note; int candidates get fact `?`.
awk -F'\t' -v OFS='\t' -v modes="user kernel chicago authtypes" \
	-v evalf="$tmp/evalreq" -v skipf="$tmp/skipped" '
FILENAME ~ /src\.mac$/ { srch[$1] = $2; srcl[$1] = $3; nsrc++; srcn[nsrc] = $1; next }
$2 == "decl" {
	key = $1 SUBSEP $3
	if (!(key in dk)) { dk[key] = $4; dh[key] = $5; dl[key] = $6; df[key] = $7; sub(/\.h$/, "", dh[key]) }
	if ($4 == "func") isfunc[$3] = 1
	if ($4 == "type" || $4 == "struct" || $4 == "union") istype[$3] = 1
	if (!(($1, $3) in dseen)) { dseen[$1, $3] = 1; dcount[$1]++; dname[$1, dcount[$1]] = $3 }
	next
}
$2 == "dm" {
	d = $3; sub(/^#define /, "", d)
	n = d; sub(/[^A-Za-z0-9_].*/, "", n)
	r = substr(d, length(n) + 1)
	fnlike = (substr(r, 1, 1) == "(")
	sub(/^ /, "", r)
	mdef[$1, n] = 1; mraw[$1, n] = r; mfn[$1, n] = fnlike
	next
}
$2 == "exp" { mexp[$1, $3] = $4; next }
function skip(n) {
	if (n ~ /^__/ || n ~ /^_AUTH_IDENTITY.*_DEFINED$/) { skipped[n] = 1; return 1 }
	return 0
}
function put(n, kind, hdr, line, fact, wfact, note) {
	if (n in kindof) return
	kindof[n] = kind
	out[++nout] = n OFS kind OFS hdr OFS line OFS fact OFS wfact OFS note
}
function unquote(e) { sub(/^L?"/, "", e); sub(/"$/, "", e); return e }
function macro(m, n, note,    r, e, ew) {
	r = mraw[m, n]; e = mexp[m, n]
	if (mfn[m, n]) return put(n, "fnmacro", srch[n], srcl[n], "-", "-", note)
	if (r ~ /^__MINGW_NAME_AW\(/) return put(n, "aw", srch[n], srcl[n], n "A:" n "W", "-", note)
	if (r ~ /^__MINGW_NAME_UAW\(/) return put(n, "aw", srch[n], srcl[n], n "_A:" n "_W", "-", note)
	if (e == "") return put(n, "defined", srch[n], srcl[n], "-", "-", note)
	if (e ~ /^"[^"]*"$/) {
		ew = (m == "user") ? mexp["userw", n] : e
		return put(n, "str", srch[n], srcl[n], (ew ~ /^L"/ ? "tchar:" : "narrow:") unquote(e), "-", note)
	}
	if (e ~ /^L"[^"]*"$/) return put(n, "str", srch[n], srcl[n], "wide:" unquote(e), "-", note)
	if (e ~ /^[A-Za-z_][A-Za-z0-9_]*$/) {
		if (e in isfunc) return put(n, "alias", srch[n], srcl[n], "func:" e, "-", note)
		if (e in istype) return put(n, "alias", srch[n], srcl[n], "type:" e, "-", note)
		if (mfn[m, e]) return put(n, "fnmacro", srch[n], srcl[n], "-", "-", note)
		printf "extract.sh: %s expands to the unknown %s\n", n, e > "/dev/stderr"; bad = 1
		return
	}
	evalreq[m] = evalreq[m] " " n
	put(n, "int", srch[n], srcl[n], "?", "-", note)
}
END {
	nm = split(modes, ml, " ")
	for (i = 1; i <= nm; i++) {
		m = ml[i]; note = (m == "user") ? "-" : m
		for (j = 1; j <= dcount[m]; j++) {
			n = dname[m, j]
			if (skip(n) || (n in kindof)) continue
			k = dk[m, n]; f = df[m, n]; nt = note
			if (k == "enumconst") { evalreq[m] = evalreq[m] " " n; k = "int"; f = "?" }
			wf = "-"
			if (m == "user" && (("userw", n) in dk) && df["userw", n] != f) wf = df["userw", n]
			if (m == "kernel" && f ~ /PSECURITY_STRING/) nt = nt ",kstring"
			put(n, k, dh[m, n], dl[m, n], f, wf, nt)
		}
		for (j = 1; j <= nsrc; j++) {
			n = srcn[j]
			if (!((m, n) in mdef) || skip(n) || (n in kindof)) continue
			macro(m, n, note)
		}
	}
	# A/W targets: function, typedef, struct tag or macro.
	for (i = 1; i <= nout; i++) {
		split(out[i], fl, OFS)
		if (fl[2] != "aw") continue
		split(fl[5], t, ":")
		tk = (t[1] in isfunc) ? "func" : (t[1] in istype) ? "type" : (t[1] ~ /^_/) ? "tag" : "macro"
		fl[5] = tk ":" fl[5]
		# An A/W macro whose target the headers never define (CLOUDAP_NAME
		# names CLOUDAP_NAME_A, but security.h defines ClOUDAP_NAME_A).
		if (tk == "macro" && !(t[1] in kindof)) fl[7] = (fl[7] == "-" ? "" : fl[7] ",") "noA"
		if (tk == "macro" && !(t[2] in kindof)) fl[7] = (fl[7] == "-" ? "" : fl[7] ",") "noW"
		out[i] = fl[1] OFS fl[2] OFS fl[3] OFS fl[4] OFS fl[5] OFS fl[6] OFS fl[7]
	}
	for (i = 1; i <= nout; i++) print out[i]
	for (m in evalreq) print m, evalreq[m] > evalf
	for (n in skipped) print n > skipf
	for (j = 1; j <= nsrc; j++) if (!(srcn[j] in kindof) && !(srcn[j] in skipped))
		printf "extract.sh: %s is defined in no mode\n", srcn[j] > "/dev/stderr"
	exit bad
}' "$tmp/src.mac" "$tmp/facts" > "$tmp/records"

# --- values: a host program per mode prints every int, with Windows' widths --
: > "$tmp/values"
while IFS='	' read -r m names; do
	flags=$(echo "$modes" | sed -n "s/^$m://p")
	# shellcheck disable=SC1003 # the C macro continues on the next line
	{
		printf '%s\n' 'int printf(const char *, ...);' '#include <security.h>' \
			'#define P(n) printf("%s\t%s%llu\n", #n, (n) < 0 ? "-" : "", \' \
			'	(n) < 0 ? 0ULL - (unsigned long long)(n) : (unsigned long long)(n))' \
			'int main(void) {'
		for n in $names; do printf 'P(%s);\n' "$n"; done
		printf '%s\n' 'return 0; }'
	} > "$tmp/eval_$m.c"
	# shellcheck disable=SC2086
	$CC -w -DCENSUS_EVAL -I"$tmp" -include "$tmp/census_base.h" $flags -o "$tmp/eval_$m" "$tmp/eval_$m.c"
	"$tmp/eval_$m" >> "$tmp/values"
done < "$tmp/evalreq"

# --- names.tsv: in header order (sspi, security, secext), then line ---------
awk -F'\t' -v OFS='\t' '
	FILENAME ~ /values$/ { v[$1] = $2; next }
	{
		if ($5 == "?") {
			if (!($1 in v)) { print "extract.sh: no value for " $1 > "/dev/stderr"; exit 1 }
			$5 = v[$1]
		}
		r = ($3 == "sspi") ? 1 : ($3 == "security") ? 2 : 3
		print r, $4, NR, $1, $2, $3, $5, $6, $7
	}' "$tmp/values" "$tmp/records" > "$tmp/ordered"
from=$inc
if [ "$inc" = /usr/share/mingw-w64/include ]; then
	from="mingw-w64-common $(dpkg-query -W -f '${Version}' mingw-w64-common 2>/dev/null || echo '(version unknown)')"
fi
{
	echo "# test/census/names.tsv - Microsoft's sspi.h, security.h and secext.h, one name a line."
	echo "# Generated by test/census/extract.sh from mingw-w64's headers ($from): do not edit."
	echo "# Columns and kinds: see test/census/extract.sh.  Read by test/census.sh (make check-census)."
	printf '# name\tkind\theader\tfact\twfact\tnote\n'
	sort -t'	' -k1,1n -k2,2n -k3,3n "$tmp/ordered" | cut -f4-
} > "$out"
echo "extract.sh: $(grep -vc '^#' "$out") names in $out ($(wc -l < "$tmp/skipped") skipped: $(sort "$tmp/skipped" | tr '\n' ' '))"
