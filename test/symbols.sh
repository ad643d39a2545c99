#!/bin/sh
# test/symbols.sh LIB - every global symbol the static library defines must be
# ours (sa_, sa__, sspiasync_) or one of Microsoft's SSPI names, because a
# static library exports them all into its users' programs.  And the two
# prefixes mean what they say: an sa_ (or sspiasync_) symbol is declared in
# an installed header (include/sspiasync/*.h), the library's private
# interface is sa__, so a reader tells the installed API from the internals
# by the name alone.
set -eu
lib=$1
# Microsoft's names that src/sspi/ may define (the functions of sspi.h).
ms='^((AcquireCredentialsHandle|InitializeSecurityContext|QueryContextAttributes|QueryContextAttributesEx|SetContextAttributes|QueryCredentialsAttributes|QueryCredentialsAttributesEx|SetCredentialsAttributes|EnumerateSecurityPackages|QuerySecurityPackageInfo|InitSecurityInterface|ImportSecurityContext|AddCredentials|ChangeAccountPassword)[AW]|FreeCredentialsHandle|AcceptSecurityContext|CompleteAuthToken|DeleteSecurityContext|ApplyControlToken|ImpersonateSecurityContext|RevertSecurityContext|QuerySecurityContextToken|ExportSecurityContext|FreeContextBuffer|MakeSignature|VerifySignature|EncryptMessage|DecryptMessage|Sspi[A-Za-z]+)$'
defined=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
[ -n "$defined" ] || { echo "symbols.sh: no global symbol found in $lib"; exit 1; }
bad=$(printf '%s\n' "$defined" | grep -Ev '^(sa_|sa__|sspiasync_)' | grep -Ev "$ms" || test $? -eq 1)
if [ -n "$bad" ]; then
	echo "symbols.sh: global symbols outside the library's namespaces:"
	printf '  %s\n' $bad
	exit 1
fi
here=$(cd "$(dirname "$0")/.." && pwd)
private=""
for sym in $(printf '%s\n' "$defined" | grep -E '^(sa_[^_]|sspiasync_)' || test $? -eq 1); do
	grep -q -w "$sym" "$here"/include/sspiasync/*.h || private="$private $sym"
done
if [ -n "$private" ]; then
	echo "symbols.sh: sa_/sspiasync_ symbols no installed header declares (private ones are sa__):"
	printf '  %s\n' $private
	exit 1
fi
echo "symbols.sh: $(printf '%s\n' "$defined" | wc -l) global symbols, all sa_/sa__/sspiasync_ or Microsoft's; every sa_/sspiasync_ one installed"
