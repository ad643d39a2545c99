/*
 * src/packages/ntlm/cred.c - NTLM credentials: an explicit identity, the
 * user file (NTLM_USER_FILE, users.c) on either side, and the server's
 * store callback (sspiasync_ntlm_set_lookup).  Invariants: ntlm_pkg.h,
 * above struct ntlm_cred.
 */
#define _DEFAULT_SOURCE /* gethostname */
#include "packages/ntlm/ntlm_pkg.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void host_name(char out[16])
{
	char h[256];
	if (gethostname(h, sizeof h) != 0)
		strcpy(h, "LOCALHOST");
	h[sizeof h - 1] = '\0';
	size_t i = 0;
	for (; i < 15 && h[i] != '\0' && h[i] != '.'; i++)
		out[i] = (h[i] >= 'a' && h[i] <= 'z') ? (char)(h[i] - 32) : h[i];
	out[i] = '\0';
	if (i == 0)
		strcpy(out, "LOCALHOST");
}

static void str_wipe_free(char *s)
{
	if (s != NULL) {
		sa__ntlm_wipe(s, strlen(s));
		sa__free(s);
	}
}

void sa__ntlm_cred_free(void *c)
{
	struct ntlm_cred *cr = c;
	str_wipe_free(cr->user);
	str_wipe_free(cr->domain);
	sa__ntlm_users_free(&cr->users);
	(void)pthread_mutex_destroy(&cr->lock);
	sa__ntlm_wipe(cr, sizeof *cr);
	sa__free(cr);
}

/* Split "DOMAIN\user" (or "user@domain", or "user"). */
static int split_principal(const char *p, char **user, char **domain)
{
	const char *bs = strchr(p, '\\'), *at = strchr(p, '@');
	const char *u = p, *d = "";
	size_t ulen = strlen(p), dlen = 0;
	if (bs != NULL) {
		d = p;
		dlen = (size_t)(bs - p);
		u = bs + 1;
		ulen = strlen(u);
	} else if (at != NULL) {
		ulen = (size_t)(at - p);
		d = at + 1;
		dlen = strlen(d);
	}
	*user = sa__malloc(ulen + 1);
	*domain = sa__malloc(dlen + 1);
	if (*user == NULL || *domain == NULL) {
		sa__free(*user);
		sa__free(*domain);
		*user = *domain = NULL; /* the caller frees both whatever happens */
		return -1;
	}
	memcpy(*user, u, ulen);
	(*user)[ulen] = '\0';
	memcpy(*domain, d, dlen);
	(*domain)[dlen] = '\0';
	return 0;
}

/* The outbound identity: explicit, else the user file's entry. */
static int32_t cred_outbound(struct ntlm_cred *c, const struct sa_pkg_cred_args *a)
{
	if (a->identity != NULL) {
		const struct sa_pkg_identity *id = a->identity;
		uint8_t probe[2 * SA_NTLM_NAME_MAX];
		if (sa__ntlm_utf16(id->user, 0, probe, sizeof probe) < 0 ||
		    sa__ntlm_utf16(id->domain, 0, probe, sizeof probe) < 0)
			return SEC_E_INVALID_PARAMETER; /* not UTF-8, or too long */
		if (sa__ntlm_nt_hash(id->password, c->nt_hash) != 0)
			return SEC_E_INVALID_PARAMETER;
		c->user = sa__strdup(id->user);
		c->domain = sa__strdup(id->domain);
		if (c->user == NULL || c->domain == NULL)
			return SEC_E_INSUFFICIENT_MEMORY;
		c->has_identity = 1;
		return SEC_E_OK;
	}
	const char *path = getenv("NTLM_USER_FILE");
	if (path == NULL)
		return SEC_E_NO_CREDENTIALS;
	struct sa_ntlm_users users;
	int rc = sa__ntlm_users_load(path, &users);
	if (rc == -2)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (rc != 0)
		return SEC_E_NO_CREDENTIALS;
	char *want_user = NULL, *want_domain = NULL;
	const struct sa_ntlm_user *e = NULL;
	int32_t st = SEC_E_OK;
	if (a->principal != NULL) {
		if (split_principal(a->principal, &want_user, &want_domain) != 0)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else
			e = sa__ntlm_users_find(&users, want_domain[0] ? want_domain : NULL,
					       want_user);
	} else if (users.n != 0) {
		e = &users.v[0];
	}
	if (st == SEC_E_OK && e == NULL)
		st = SEC_E_NO_CREDENTIALS;
	if (st == SEC_E_OK) {
		c->user = sa__strdup(e->user);
		c->domain = sa__strdup(e->domain);
		memcpy(c->nt_hash, e->nt_hash, 16);
		c->has_identity = 1;
		if (c->user == NULL || c->domain == NULL)
			st = SEC_E_INSUFFICIENT_MEMORY;
	}
	sa__free(want_user);
	sa__free(want_domain);
	sa__ntlm_users_free(&users);
	return st;
}

int32_t sa__ntlm_cred_acquire(const struct sa_pkg_cred_args *a, void **out, int64_t *expiry)
{
	struct ntlm_cred *c = sa__calloc(1, sizeof *c);
	if (c == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		sa__free(c);
		return SEC_E_INSUFFICIENT_MEMORY;
	}
	c->use = a->use;
	host_name(c->host);
	char lower[16];
	for (size_t i = 0; i < sizeof lower; i++)
		lower[i] = (c->host[i] >= 'A' && c->host[i] <= 'Z') ? (char)(c->host[i] + 32)
								    : c->host[i];
	long h16 = sa__ntlm_utf16(c->host, 0, c->host16, sizeof c->host16);
	long l16 = sa__ntlm_utf16(lower, 0, c->dns16, sizeof c->dns16);
	c->host16_len = h16 > 0 ? (size_t)h16 : 0;
	c->dns16_len = l16 > 0 ? (size_t)l16 : 0;
	/* Only a server sends them (a host name that is not UTF-8 cannot). */
	int32_t st = (h16 > 0 && l16 > 0) || !(a->use & SECPKG_CRED_INBOUND) ? SEC_E_OK
										: SEC_E_INTERNAL_ERROR;
	if (st == SEC_E_OK && (a->use & SECPKG_CRED_OUTBOUND))
		st = cred_outbound(c, a);
	if (st == SEC_E_OK && (a->use & SECPKG_CRED_INBOUND)) {
		const char *path = getenv("NTLM_USER_FILE");
		int rc = path != NULL ? sa__ntlm_users_load(path, &c->users) : 0;
		if (rc == -2)
			st = SEC_E_INSUFFICIENT_MEMORY;
		else if (rc != 0)
			st = SEC_E_NO_CREDENTIALS; /* named but unreadable */
	}
	if (st != SEC_E_OK) {
		sa__ntlm_cred_free(c);
		return st;
	}
	*out = c;
	*expiry = SA_NTLM_NEVER;
	return SEC_E_OK;
}

int32_t sa__ntlm_cred_name(void *cv, char **name)
{
	struct ntlm_cred *c = cv;
	if (!c->has_identity) {
		*name = sa__strdup(c->host);
		return *name != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
	}
	size_t n = strlen(c->domain) + 1 + strlen(c->user) + 1;
	*name = sa__malloc(n);
	if (*name == NULL)
		return SEC_E_INSUFFICIENT_MEMORY;
	if (c->domain[0] != '\0')
		(void)snprintf(*name, n, "%s\\%s", c->domain, c->user);
	else
		(void)snprintf(*name, n, "%s", c->user);
	return SEC_E_OK;
}

int32_t sa__ntlm_cred_set_lookup(void *cv, sa_pkg_lookup_fn fn, void *arg)
{
	struct ntlm_cred *c = cv;
	if (!(c->use & SECPKG_CRED_INBOUND))
		return SEC_E_UNSUPPORTED_FUNCTION;
	(void)pthread_mutex_lock(&c->lock);
	c->lookup = fn;
	c->lookup_arg = arg;
	(void)pthread_mutex_unlock(&c->lock);
	return SEC_E_OK;
}
