/*
 * policy check, explain and deploy, and the reading of a directory of
 * policy files they start from. Deployment replaces the sealed set in
 * the store in one transaction, after the new set has loaded in full, so
 * a bad file leaves the vault with the policy it had.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "casevault.h"
#include "base/error.h"
#include "base/classes.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "gate/event.h"
#include "rules/policy.h"
#include "ops/policy.h"
#include "gate/policyset.h"
#include "store/store.h"
#include "base/util.h"
#include "model/account.h"
#include "model/session.h"

int
cv_policy_check(const char *dir, json_t **out)
{
	struct cv_policy_set *set = NULL;
	char err[256], hex[65];
	uint8_t h[32];
	json_t *findings;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_policy_load_dir(dir, &set, err, sizeof(err))) != 0) {
		cv_error_set("%s", err);
		return r;
	}
	if ((findings = json_array()) == NULL) {
		cv_policy_set_free(set);
		return CV_ENOMEM;
	}
	r = cv_policy_lint(set, findings);
	cv_policy_set_hash(set, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (r >= 0) {
		*out = json_pack("{s:I, s:s, s:o}", "files",
		    (json_int_t)cv_policy_set_count(set), "hash", hex,
		    "findings", findings);
		findings = NULL;
		r = *out == NULL ? CV_ENOMEM : 0;
	}
	json_decref(findings);
	cv_policy_set_free(set);
	return r;
}

int
cv_policy_explain(struct cv_session *s, const char *user, const char *action,
    const char *case_id, const char *cls, const char *purpose, json_t **out)
{
	struct cv_subject who;
	struct cv_user u;
	struct cv_txn *txn = NULL;
	char actor[16];
	int r, a, c = -1;

	cv_error_clear();
	*out = NULL;
	if ((a = cv_action_parse(action)) < 0) {
		cv_error_set("unknown action; see docs/policy.md");
		return CV_EINVAL;
	}
	if (cls != NULL && (c = cv_class_parse(cls)) < 0) {
		cv_error_set("unknown class");
		return CV_EINVAL;
	}
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_user_get_checked(txn, s, user, &u)) != 0)
		goto out;
	/* The account explained, as the gate would see it asking. */
	snprintf(actor, sizeof(actor), "u%u", (unsigned)u.id);
	who.uid = u.id;
	who.user = u.name;
	who.role = u.role;
	who.actor = actor;
	r = cv_gate_explain(
	    s, txn, &who, (enum cv_action)a, case_id, c, purpose, out);
	if (r == 0) {
		json_object_set_new(*out, "user", json_string(u.name));
		if (case_id != NULL)
			json_object_set_new(*out, "case", json_string(case_id));
		if (purpose != NULL)
			json_object_set_new(
			    *out, "purpose", json_string(purpose));
	}
out:
	cv_txn_abort(txn);
	return r;
}

int
cv_policy_deploy(struct cv_session *s, const char *dir)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_POLICY_DEPLOY,
	    .op = "policy.deploy",
	    .write = 1};
	struct cv_policy_set *set = NULL;
	struct cv_gate_res res;
	struct cv_txn *txn = NULL;
	char err[256], hex[65];
	uint8_t h[32];
	json_t *ev = NULL;
	int r;

	cv_error_clear();
	if ((r = cv_policy_load_dir(dir, &set, err, sizeof(err))) != 0) {
		cv_error_set("%s (the vault keeps its policy)", err);
		return r;
	}
	/* Checked before the gate, like a file that does not parse: a set
	 * that breaks an invariant is never deployed. */
	if ((r = cv_policy_invariants(set, err, sizeof(err))) != 0) {
		cv_error_set("%s (the vault keeps its policy)", err);
		goto out;
	}
	cv_policy_set_hash(set, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if ((r = cv_outcome_txn_begin(s, &txn)) != 0)
		goto out;
	ev = json_pack(
	    "{s:s, s:s}", "old_policy", s->policy_hash, "new_policy", hex);
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	if ((r = cv_policy_store_put(txn, s, set)) != 0 ||
	    (r = cv_event_applied(txn, s, res.seq)) != 0)
		goto out;
	r = cv_txn_commit(txn);
	txn = NULL;
	if (r == 0)
		r = cv_policy_store_load(s);
out:
	cv_outcome_end(s, &txn, r);
	cv_policy_set_free(set);
	json_decref(ev);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cv_policy_load_dir(
    const char *dir, struct cv_policy_set **out, char *err, size_t errlen)
{
	char *names[CV_POLICY_FILES_MAX], path[4096], *text = NULL;
	struct cv_policy_set *set = NULL;
	struct dirent *de;
	struct stat st;
	size_t i, n = 0, len, nl;
	DIR *d = NULL;
	int r = CV_EIO;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || dir == NULL)
		return CV_EINVAL;
	*out = NULL;
	if ((d = opendir(dir)) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "cannot open policy directory");
		return CV_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (de->d_name[0] == '.' || nl <= 7 ||
		    strcmp(de->d_name + nl - 7, ".policy") != 0)
			continue;
		if ((r = cv_path(
		         path, sizeof(path), "%s/%s", dir, de->d_name)) != 0)
			goto out;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == CV_POLICY_FILES_MAX) {
			r = CV_ETOOBIG;
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
				    "more than %d policy files",
				    CV_POLICY_FILES_MAX);
			goto out;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = CV_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n == 0) {
		r = CV_EPOLICY;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no *.policy file in directory");
		goto out;
	}
	/* Sorted, so the first error reported does not depend on readdir. */
	qsort(names, n, sizeof(names[0]), cmp_str);
	if ((r = cv_policy_set_new(&set)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = cv_path(path, sizeof(path), "%s/%s", dir, names[i])) !=
		    0)
			goto out;
		r = cv_read_file(path, CV_POLICY_FILE_MAX, &text, &len);
		if (r == CV_ETOOBIG) {
			r = CV_EPOLICY;
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
				    "%s:0: text larger than %d bytes", names[i],
				    CV_POLICY_FILE_MAX);
			goto out;
		}
		if (r != 0) {
			if (err != NULL && errlen > 0)
				snprintf(
				    err, errlen, "%s: cannot read", names[i]);
			goto out;
		}
		r = cv_policy_set_add(set, names[i], text, len, err, errlen);
		free(text);
		text = NULL;
		if (r != 0)
			goto out;
	}
	*out = set; /* transferred */
	set = NULL;
	r = 0;
out:
	free(text);
	cv_policy_set_free(set);
	for (i = 0; i < n; i++)
		free(names[i]);
	closedir(d);
	return r;
}
