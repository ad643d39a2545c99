/*
 * src/packages/krb5/cred.c - Kerberos credentials.
 *
 *   outbound, no identity   the default ccache (KRB5CCNAME), checked here:
 *                           none is SEC_E_NO_CREDENTIALS
 *   outbound, identity      user[@realm] and password, kept; the first
 *                           initiator leg gets the TGT (a MEMORY ccache of
 *                           this credential's own: no file is written)
 *   inbound                 the keytab (KRB5_KTNAME or the default), any
 *                           service principal in it unless one is named
 */
#include "packages/krb5/krb5_pkg.h"
#include "util/alloc.h"

#include <string.h>

/* user, or user@domain when the user names no realm and a domain is given */
static char *identity_principal(const struct sa_pkg_identity *id)
{
	size_t u = strlen(id->user), d = strlen(id->domain);
	int join = d != 0 && strchr(id->user, '@') == NULL;
	char *p = sa__malloc(u + (join ? d + 1 : 0) + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, id->user, u);
	if (join) {
		p[u] = '@';
		memcpy(p + u + 1, id->domain, d);
		u += d + 1;
	}
	p[u] = '\0';
	return p;
}

/* A krb5 principal name (service/host@REALM, user@REALM) for GSS. */
static int32_t import_principal(const char *s, gss_name_t *out)
{
	OM_uint32 min, maj;
	gss_buffer_desc b = {strlen(s), (void *)s};
	maj = gss_import_name(&min, &b, GSS_KRB5_NT_PRINCIPAL_NAME, out);
	return GSS_ERROR(maj) ? sa__krb5_fail("gss_import_name", maj, min, SEC_E_UNKNOWN_CREDENTIALS)
			      : SEC_E_OK;
}

/* gss_acquire_cred for one usage, by name or (NULL) the default one. */
static int32_t acquire(const char *principal, gss_cred_usage_t usage, gss_cred_id_t *out,
		       OM_uint32 *lifetime)
{
	OM_uint32 maj, min, junk;
	gss_name_t name = GSS_C_NO_NAME;
	int32_t st = principal != NULL ? import_principal(principal, &name) : SEC_E_OK;
	if (st != SEC_E_OK)
		return st;
	maj = gss_acquire_cred(&min, name, GSS_C_INDEFINITE, &sa__krb5_mech_set, usage, out, NULL,
			       lifetime);
	if (name != GSS_C_NO_NAME)
		(void)gss_release_name(&junk, &name);
	if (GSS_ERROR(maj)) {
		*out = GSS_C_NO_CREDENTIAL;
		/* Whatever the reason (no ccache, no keytab, no such key in it):
		 * the caller has no credential, unless memory ran out. */
		st = sa__krb5_fail("gss_acquire_cred", maj, min, SEC_E_NO_CREDENTIALS);
		return st == SEC_E_INSUFFICIENT_MEMORY ? st : SEC_E_NO_CREDENTIALS;
	}
	return SEC_E_OK;
}

int32_t sa__krb5_cred_acquire(const struct sa_pkg_cred_args *a, void **out, int64_t *expiry)
{
	struct krb5_cred *c = sa__calloc(1, sizeof *c);
	int32_t st = SEC_E_INSUFFICIENT_MEMORY;
	if (c == NULL)
		return st;
	c->use = a->use;
	c->init = c->accept = GSS_C_NO_CREDENTIAL;
	c->expiry = SA_KRB5_NEVER;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		sa__free(c);
		return SEC_E_INTERNAL_ERROR;
	}
	if (a->identity != NULL && (a->use & SECPKG_CRED_OUTBOUND)) {
		if (a->identity->user[0] == '\0')
			goto fail_status; /* a password for nobody */
		c->principal = identity_principal(a->identity);
		c->password = sa__strdup(a->identity->password);
		if (c->principal == NULL || c->password == NULL)
			goto fail;
	} else if (a->principal != NULL && a->principal[0] != '\0') {
		if ((c->principal = sa__strdup(a->principal)) == NULL)
			goto fail;
	}
	if ((a->use & SECPKG_CRED_OUTBOUND) && c->password == NULL) {
		OM_uint32 life = GSS_C_INDEFINITE;
		if ((st = acquire(c->principal, GSS_C_INITIATE, &c->init, &life)) != SEC_E_OK)
			goto fail;
		c->expiry = sa__krb5_expiry(life);
	}
	/* An inbound credential that named no principal accepts for any in the keytab. */
	if ((a->use & SECPKG_CRED_INBOUND) &&
	    (st = acquire(a->identity != NULL ? NULL : c->principal, GSS_C_ACCEPT, &c->accept,
			  NULL)) != SEC_E_OK)
		goto fail;
	*out = c;
	*expiry = c->expiry;
	return SEC_E_OK;
fail_status:
	st = SEC_E_UNKNOWN_CREDENTIALS;
fail:
	sa__krb5_cred_free(c);
	return st;
}

void sa__krb5_cred_free(void *cv)
{
	struct krb5_cred *c = cv;
	OM_uint32 min;
	if (c->init != GSS_C_NO_CREDENTIAL)
		(void)gss_release_cred(&min, &c->init);
	if (c->accept != GSS_C_NO_CREDENTIAL)
		(void)gss_release_cred(&min, &c->accept);
	if (c->password != NULL) {
		sa__wipe(c->password, strlen(c->password));
		sa__free(c->password);
	}
	sa__free(c->principal);
	pthread_mutex_destroy(&c->lock);
	sa__free(c);
}

int32_t sa__krb5_cred_name(void *cv, char **name)
{
	struct krb5_cred *c = cv;
	gss_cred_id_t g = c->init != GSS_C_NO_CREDENTIAL && c->password == NULL ? c->init : c->accept;
	if (c->principal != NULL || g == GSS_C_NO_CREDENTIAL) {
		*name = sa__strdup(c->principal != NULL ? c->principal : "");
		return *name != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
	}
	/* The ccache's principal; an acceptor of any principal has no name of its own. */
	OM_uint32 maj, min;
	gss_name_t n = GSS_C_NO_NAME;
	gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
	maj = gss_inquire_cred(&min, g, &n, NULL, NULL, NULL);
	if (!GSS_ERROR(maj) && n != GSS_C_NO_NAME)
		maj = gss_display_name(&min, n, &s, NULL);
	if (n != GSS_C_NO_NAME)
		(void)gss_release_name(&min, &n);
	if (GSS_ERROR(maj) || s.value == NULL) {
		*name = sa__strdup("");
	} else {
		*name = sa__malloc(s.length + 1);
		if (*name != NULL) {
			memcpy(*name, s.value, s.length);
			(*name)[s.length] = '\0';
		}
	}
	(void)gss_release_buffer(&min, &s);
	return *name != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

int32_t sa__krb5_cred_initiator(struct krb5_cred *c, gss_cred_id_t *out)
{
	if (!(c->use & SECPKG_CRED_OUTBOUND))
		return SEC_E_NO_CREDENTIALS;
	if (c->password == NULL) {
		*out = c->init;
		return SEC_E_OK;
	}
	int32_t st = SEC_E_OK;
	pthread_mutex_lock(&c->lock);
	if (c->init == GSS_C_NO_CREDENTIAL) {
		gss_name_t name = GSS_C_NO_NAME;
		st = import_principal(c->principal, &name);
		if (st == SEC_E_OK) {
			OM_uint32 maj, min, junk;
			gss_buffer_desc pw = {strlen(c->password), c->password};
			maj = gss_acquire_cred_with_password(&min, name, &pw, GSS_C_INDEFINITE,
							     &sa__krb5_mech_set, GSS_C_INITIATE,
							     &c->init, NULL, NULL);
			(void)gss_release_name(&junk, &name);
			if (GSS_ERROR(maj)) {
				c->init = GSS_C_NO_CREDENTIAL;
				st = sa__krb5_fail("gss_acquire_cred_with_password", maj, min,
						  SEC_E_LOGON_DENIED);
			}
		}
	}
	*out = c->init;
	pthread_mutex_unlock(&c->lock);
	return st;
}
