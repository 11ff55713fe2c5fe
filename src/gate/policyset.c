/*
 * The deployed policy set, sealed in the store. One value holds the whole
 * set, so a deployment replaces it atomically and a reader never sees half
 * of an old set and half of a new one.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/crypto.h"
#include "base/embedded.h"
#include "rules/policy.h"
#include "gate/policyset.h"
#include "store/sealed.h"
#include "base/util.h"
#include "model/session.h"

#define POLICY_KEY "policy_set"
#define POLICY_TAG "casevault-policy-v1"

int
cv_policy_shipped(struct cv_policy_set **out, char *err, size_t errlen)
{
	const struct cv_embedded *e;
	struct cv_policy_set *set;
	const char *base;
	int r;

	*out = NULL;
	if ((r = cv_policy_set_new(&set)) != 0)
		return r;
	for (e = cv_embedded_files; e->name != NULL; e++) {
		if (strncmp(e->name, "policies/", 9) != 0)
			continue;
		base = e->name + 9;
		if ((r = cv_policy_set_add(set, base, (const char *)e->data,
		         e->len, err, errlen)) != 0) {
			cv_policy_set_free(set);
			return r;
		}
	}
	*out = set;
	return 0;
}

/* The set as JSON {"name": "text", ...}, sealed. */
int
cv_policy_store_put(
    struct cv_txn *txn, struct cv_session *s, const struct cv_policy_set *set)
{
	/* Bound by its tag alone: there is one policy set in a vault. */
	struct cv_bind b = {POLICY_TAG, s->vault_id, NULL, 0, NULL, 0};
	const char *name, *text;
	uint8_t *sealed = NULL;
	size_t i, len, n;
	char *plain = NULL;
	json_t *j;
	int r;

	if ((j = json_object()) == NULL)
		return CV_ENOMEM;
	for (i = 0; i < cv_policy_set_count(set); i++) {
		if (cv_policy_set_file(set, i, &name, &text, &len) != 0) {
			json_decref(j);
			return CV_EPOLICY;
		}
		json_object_set_new(j, name, json_stringn(text, len));
	}
	plain = cv_json_canonical(j);
	json_decref(j);
	if (plain == NULL)
		return CV_ENOMEM;
	n = strlen(plain);
	if ((sealed = malloc(n + CV_SEALOVERHEAD)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_sealed_seal(
	         s->keys->meta, &b, (uint8_t *)plain, n, sealed)) != 0)
		goto out;
	r = cv_put(txn, CV_DB_META, POLICY_KEY, strlen(POLICY_KEY), sealed,
	    n + CV_SEALOVERHEAD, 0);
out:
	free(plain);
	free(sealed);
	return r;
}

int
cv_policy_store_init(struct cv_txn *txn, struct cv_session *s)
{
	struct cv_policy_set *set;
	char err[256];
	int r;

	if ((r = cv_policy_shipped(&set, err, sizeof(err))) != 0)
		return r;
	r = cv_policy_store_put(txn, s, set);
	cv_policy_set_free(set);
	return r;
}

int
cv_policy_store_load(struct cv_session *s)
{
	struct cv_bind b = {POLICY_TAG, s->vault_id, NULL, 0, NULL, 0};
	struct cv_policy_set *set = NULL;
	uint8_t hash[32], *plain = NULL;
	char err[256];
	struct cv_txn *txn = NULL;
	size_t n;
	const char *name;
	json_t *j = NULL, *text;
	struct cv_val v;
	int r;

	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_get(txn, CV_DB_META, POLICY_KEY, strlen(POLICY_KEY), &v)) !=
	    0) {
		r = CV_ECORRUPT;
		goto out;
	}
	if (v.len < CV_SEALOVERHEAD) {
		r = CV_ECORRUPT;
		goto out;
	}
	if ((r = cv_sealed_open_new(
	         s->keys->meta, &b, v.data, v.len, &plain, &n)) != 0)
		goto out;
	if ((r = cv_json_parse_object(
	         (char *)plain, strlen((char *)plain), 1 << 20, &j)) != 0 ||
	    (r = cv_policy_set_new(&set)) != 0) {
		r = r == CV_EJSON ? CV_ECORRUPT : r;
		goto out;
	}
	json_object_foreach (j, name, text) {
		if (!json_is_string(text) ||
		    (r = cv_policy_set_add(set, name, json_string_value(text),
		         json_string_length(text), err, sizeof(err))) != 0) {
			r = CV_ECORRUPT;
			goto out;
		}
	}
	cv_policy_set_hash(set, hash);
	sodium_bin2hex(
	    s->policy_hash, sizeof(s->policy_hash), hash, sizeof(hash));
	/* A session of a served vault may borrow its set: not freed here. */
	if (cv_session_owns_policy(s))
		cv_policy_set_free(s->policy);
	s->policy = set;
	set = NULL;
	r = 0;
out:
	cv_txn_abort(txn);
	cv_policy_set_free(set);
	json_decref(j);
	free(plain);
	return r;
}

void
cv_policy_store_free(struct cv_policy_set *set)
{
	cv_policy_set_free(set);
}
