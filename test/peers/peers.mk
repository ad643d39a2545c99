# test/peers/peers.mk - the NTLM interop peers (see test/peers/README.md).
#
# Included by the main Makefile, or used alone from the repository root:
#     make -f test/peers/peers.mk B=build-h2 peers
# Builds $(B)/test/peers/gss_peer (gss-ntlmssp through MIT GSSAPI,
# pkg-config krb5-gssapi) and $(B)/test/peers/winpr_peer (WinPR 2's NTLM
# through WinPR's SSPI, pkg-config winpr2).
#
# Flags: the project's $(WARN) and $(OPT), no exceptions needed: the WinPR 2.11
# and MIT headers compile clean under -std=c11 -Wpedantic -Werror.  Not used:
# $(SAN), because the peers are other implementations' test fixtures, not our
# code (gss-ntlmssp 1.2.0 leaks per handshake, so LeakSanitizer would fail
# every peer run), and ALL_CPPFLAGS' -Iinclude -Isrc, because winpr_peer must
# see WinPR's SSPI names only, never sspiasync's.

# Defaults for standalone use; the main Makefile's own values win.
B ?= build
OPT ?= -O2 -g
WARN ?= -std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes

PEERS_GSS_CFLAGS := $(shell pkg-config --cflags krb5-gssapi 2>/dev/null)
PEERS_GSS_LIBS := $(shell pkg-config --libs krb5-gssapi 2>/dev/null || echo -lgssapi_krb5)
PEERS_WINPR_CFLAGS := $(shell pkg-config --cflags winpr2 2>/dev/null)
PEERS_WINPR_LIBS := $(shell pkg-config --libs winpr2 2>/dev/null || echo -lwinpr2)

PEERS_CPPFLAGS = -D_POSIX_C_SOURCE=200809L $(CPPFLAGS)
PEERS_CFLAGS = $(WARN) $(OPT) -pthread $(CFLAGS)
PEERS_LDFLAGS = -pthread $(LDFLAGS)

PEERS := $(B)/test/peers/gss_peer $(B)/test/peers/winpr_peer

# Keep the including Makefile's default goal; alone, the goal is the peers.
_peers_prev_goal := $(.DEFAULT_GOAL)

.PHONY: peers
peers: $(PEERS)

# Both link peer_common.c (options, frame I/O, failure reports).
PEERS_COMMON := test/peers/peer_common.c test/peers/peer_common.h test/peers/peer_proto.h

$(B)/test/peers/gss_peer: test/peers/gss_peer.c $(PEERS_COMMON)
	@mkdir -p $(@D)
	$(CC) $(PEERS_CPPFLAGS) $(PEERS_GSS_CFLAGS) $(PEERS_CFLAGS) $(PEERS_LDFLAGS) -o $@ $< test/peers/peer_common.c $(PEERS_GSS_LIBS)

$(B)/test/peers/winpr_peer: test/peers/winpr_peer.c $(PEERS_COMMON)
	@mkdir -p $(@D)
	$(CC) $(PEERS_CPPFLAGS) $(PEERS_WINPR_CFLAGS) $(PEERS_CFLAGS) $(PEERS_LDFLAGS) -o $@ $< test/peers/peer_common.c $(PEERS_WINPR_LIBS)

ifeq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := peers
else
.DEFAULT_GOAL := $(_peers_prev_goal)
endif
