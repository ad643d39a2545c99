# test/census/gen.awk - writes one census probe (a C file) for test/census.sh.
#
# Input: lines of test/census/names.tsv (name kind header fact wfact note).
# -v pass=A|W     the pass: W is compiled with -DUNICODE and checks the W side
# -v what=probe   check every fact: compile-time checks at file scope, value
#                 checks in a census_fN() that main() calls (they print
#                 "FAIL<TAB>name<TAB>why" and go on)
# -v what=exist   only whether each name is declared at all (compile only)
# -v excl=FILE    names to leave out (one a line; optional)
# -v mapf=FILE    receives "name<TAB>first line<TAB>last line" for every line
#                 range of the probe that belongs to a name, so a compiler or
#                 linker message on a line names its culprit
# What each kind's probe checks (kinds as in test/census/extract.sh):
#   int      the value, sign included (a negative never equals a large one)
#   str      a string literal of 8-bit (narrow) or 16-bit (wide) units, unit
#            by unit; tchar is narrow in pass A, wide in pass W
#   aw/alias the name denotes the A (pass A) or W (pass W) target: the same
#            function (type and address), a compatible type, the same struct
#            tag, or the same macro expansion
#   fnmacro, defined   #ifdef
#   type     declared by the header, then re-declared exactly as Microsoft
#            does (C11 allows repeating an identical typedef; any other is an
#            error); an enum type: int-sized and integer
#   struct, union  each field's type, and the fields in Microsoft's order
#   func     declared by the header, re-declared with Microsoft's prototype
#            (an incompatible one is an error) and its address taken, so the
#            link proves the library defines it
#   guid     its 16 bytes
BEGIN {
	FS = "\t"
	if (excl != "") while ((getline l < excl) > 0) { split(l, e, "\t"); skip[e[1]] = 1 }
	o("#define SECURITY_WIN32")
	o("#define _SEC_WINNT_AUTH_TYPES /* Microsoft's opt-in for the packed-credential types */")
	o("#include <security.h>")
	o("#include <stddef.h>")
	o("#include <stdio.h>")
	o("#include <string.h>")
	o("#define CENSUS_STR_(x) #x")
	o("#define CENSUS_STR(x) CENSUS_STR_(x)")
	o("#define CENSUS_SIGNED(x) _Generic((x), signed char: 1, short: 1, int: 1, long: 1, long long: 1, default: 0)")
	o("#define CENSUS_NEG(x) (CENSUS_SIGNED(x) && (long long)(x) < 0)")
	o("#define CENSUS_MAG(x) (CENSUS_NEG(x) ? 0ULL - (unsigned long long)(x) : (unsigned long long)(x))")
	o("void census_fail(const char *name, const char *why, const char *ours)")
	o("{")
	o("	printf(\"FAIL\\t%s\\t%s; ours: %s\\n\", name, why, ours);")
	o("}")
	o("void census_int(const char *name, int neg, unsigned long long mag, int wneg, unsigned long long wmag)")
	o("{")
	o("	if (neg != wneg || mag != wmag)")
	o("		printf(\"FAIL\\t%s\\tvalue %s%llu, Microsoft's %s%llu\\n\", name, neg ? \"-\" : \"\", mag, wneg ? \"-\" : \"\", wmag);")
	o("}")
}
function o(s) { print s; ln++ }
function cstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function at(t, n) { gsub(/@/, n, t); return t }
function begin_name(n) { cur = n; first = ln + 1 }
function end_name() { if (ln >= first) print cur "\t" first "\t" ln > mapf }
function run_begin() { nrun++; runname[nrun] = cur; o("static void census_f" nrun "(void)"); o("{") }
function run_end() { o("}") }
function ifndef(n, why) { o("#ifndef " n); o("#error " cstr(n " " why)); o("#endif") }

what == "exist" {
	if ($1 in skip) next
	begin_name($1)
	k = $2
	if (k == "fnmacro" || k == "defined" || k == "str" || (k == "aw" && $4 ~ /^(macro|tag):/))
		ifndef($1, "is not defined")
	else {
		o("#ifndef " $1)
		o("extern __typeof__(" $1 ") *census_x" NR ";")
		o("#endif")
	}
	end_name()
	next
}

{
	if ($1 in skip) next
	n = $1; k = $2; f = $4
	if (pass == "W" && $5 != "-") f = $5
	begin_name(n)
	if (k == "int") {
		neg = (f ~ /^-/); mag = f; sub(/^-/, "", mag)
		run_begin()
		o("	census_int(" cstr(n) ", CENSUS_NEG(" n "), CENSUS_MAG(" n "), " neg ", " mag "ULL);")
		run_end()
	} else if (k == "str") {
		w = f; sub(/:.*/, "", w); t = substr(f, length(w) + 2)
		width = (w == "narrow" || (w == "tchar" && pass == "A")) ? 1 : 2
		run_begin()
		o("	static const char census_w[] = " cstr(t) ";")
		o("	size_t census_i;")
		o("	int census_ok = sizeof(" n ") == " width " * sizeof census_w && sizeof((" n ")[0]) == " width ";")
		o("	for (census_i = 0; census_ok && census_i < sizeof census_w; census_i++)")
		o("		census_ok = (unsigned long)(" n ")[census_i] == (unsigned long)(unsigned char)census_w[census_i];")
		o("	if (!census_ok)")
		o("		census_fail(" cstr(n) ", " cstr("is not the " (width == 1 ? "narrow" : "16-bit wide") " string literal \"" t "\"") ", CENSUS_STR(" n "));")
		run_end()
	} else if (k == "aw" || k == "alias") {
		split(f, a, ":")
		tk = a[1]; t = (k == "alias" || pass == "A") ? a[2] : a[3]
		if (tk == "func") {
			o("_Static_assert(__builtin_types_compatible_p(__typeof__(&" n "), __typeof__(&" t ")), " cstr(n " has the type of " t) ");")
			run_begin()
			o("	if ((void (*)(void))&" n " != (void (*)(void))&" t ")")
			o("		census_fail(" cstr(n) ", " cstr("is not " t) ", CENSUS_STR(" n "));")
			run_end()
		} else if (tk == "type") {
			o("_Static_assert(__builtin_types_compatible_p(" n ", " t "), " cstr(n " is " t) ");")
		} else if (tk == "tag") {
			ifndef(n, "is not defined")
			o("_Static_assert(__builtin_types_compatible_p(struct " n ", struct " t "), " cstr("struct " n " is struct " t) ");")
		} else if ((pass == "A" && $6 ~ /noA/) || (pass == "W" && $6 ~ /noW/)) {
			ifndef(n, "is not defined")   # Microsoft's target is undefined
		} else {
			ifndef(n, "is not defined")
			run_begin()
			o("	if (strcmp(CENSUS_STR(" n "), CENSUS_STR(" t ")) != 0)")
			o("		census_fail(" cstr(n) ", \"does not expand as " t " (\" CENSUS_STR(" t ") \")\", CENSUS_STR(" n "));")
			run_end()
		}
	} else if (k == "fnmacro" || k == "defined") {
		ifndef(n, "is not defined")
	} else if (k == "type") {
		# Declared by the header, before the exact re-declaration (which
		# alone would declare a missing name).
		o("extern __typeof__(" n ") *census_e" NR ";")
		if (f == "enum")
			o("_Static_assert(sizeof(" n ") == sizeof(int) && (" n ")0.5 == 0, " cstr(n " is an enum type") ");")
		else
			o("typedef " at(f, n) ";")
	} else if (k == "struct" || k == "union") {
		nf = split(f, fl, ";")
		prev = ""
		for (i = 1; i <= nf; i++) {
			fn = fl[i]; sub(/=.*/, "", fn); ft = substr(fl[i], length(fn) + 2)
			o("_Static_assert(__builtin_types_compatible_p(__typeof__(((" n " *)0)->" fn "), " ft "), " cstr(n "." fn " is " ft) ");")
			if (k == "union" || prev == "")
				o("_Static_assert(offsetof(" n ", " fn ") == 0, " cstr(n "." fn " is at offset 0") ");")
			else
				o("_Static_assert(offsetof(" n ", " fn ") > offsetof(" n ", " prev "), " cstr(n "." fn " follows " prev) ");")
			prev = fn
		}
	} else if (k == "func") {
		if ($6 ~ /kstring/) gsub(/PSECURITY_STRING/, "SEC_WCHAR *", f)
		o("extern __typeof__(" n ") *census_e" NR ";")
		o(at(f, n) ";")
		run_begin()
		o("	void (*volatile census_p)(void) = (void (*)(void))&" n ";")
		o("	(void)census_p;")
		run_end()
	} else if (k == "guid") {
		run_begin()
		o("	static const GUID census_w = " f ";")
		o("	if (memcmp(&" n ", &census_w, sizeof census_w) != 0)")
		o("		census_fail(" cstr(n) ", \"has another value\", \"-\");")
		run_end()
	} else {
		printf "gen.awk: %s: unknown kind %s\n", n, k > "/dev/stderr"
		exit 1
	}
	end_name()
}

END {
	if (what == "exist") exit
	o("int main(void)")
	o("{")
	for (i = 1; i <= nrun; i++) {
		o("	census_f" i "();")
		print runname[i] "\t" ln "\t" ln > mapf
	}
	o("	return 0;")
	o("}")
}
