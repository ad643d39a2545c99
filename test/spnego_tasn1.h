/*
 * test/spnego_tasn1.h - the libtasn1 SPNEGO codec (test/spnego_tasn1.c), the
 * oracle the hand-written one (src/packages/negotiate/spnego.h) is checked
 * against.  Each sa_spnego_tasn1_X() has sa_spnego_X()'s contract (spnego.h:
 * arguments, return codes, I1-I7), except that it allocates (libtasn1, and
 * encode_init one sa__malloc) and frees it all, so -2 (no memory) can
 * happen.  Declared only with libtasn1 (SA_HAVE_TASN1, set by the Makefile).
 */
#ifndef SSPIASYNC_TEST_SPNEGO_TASN1_H
#define SSPIASYNC_TEST_SPNEGO_TASN1_H

#include "packages/negotiate/spnego.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef SA_HAVE_TASN1

int sa_spnego_tasn1_decode_init(const uint8_t *in, size_t n, struct sa_spnego_init *out);
int sa_spnego_tasn1_decode_resp(const uint8_t *in, size_t n, struct sa_spnego_resp *out);
int sa_spnego_tasn1_encode_init(const struct sa_spnego_buf *mechs, size_t n_mechs,
				struct sa_spnego_buf mech_token, struct sa_spnego_buf mic,
				uint8_t *out, size_t cap, size_t *len);
int sa_spnego_tasn1_encode_resp(int neg_state, struct sa_spnego_buf mech,
				struct sa_spnego_buf token, struct sa_spnego_buf mic, uint8_t *out,
				size_t cap, size_t *len);
int sa_spnego_tasn1_encode_mech_types(const struct sa_spnego_buf *mechs, size_t n_mechs,
				      uint8_t *out, size_t cap, size_t *len);

/*
 * sa_spnego_tasn1_cleanup() - Free the definitions' tree libtasn1 parsed
 * from sa__spnego_asn1_tab (test/spnego_asn1_tab.c, generated from
 * test/spnego.asn) on the first call; the next call parses it again.  Run
 * at the end of every program that calls the oracle, so Valgrind sees 0
 * bytes in use.  Context: no sa_spnego_tasn1_* call running.
 *
 * Regenerating the table after editing test/spnego.asn (top directory):
 *     SA_SPNEGO_REGEN=1 build/test/check_spnego
 * (or asn1Parser -o test/spnego_asn1_tab.c -n sa__spnego_asn1_tab
 * test/spnego.asn from libtasn1-bin, then put the comment header back);
 * test_spnego_tab_matches_the_definition_file fails while they differ.
 */
void sa_spnego_tasn1_cleanup(void);

#endif /* SA_HAVE_TASN1 */

#ifdef __cplusplus
}
#endif

#endif /* SSPIASYNC_TEST_SPNEGO_TASN1_H */
