/*
 * Disclosure on a legal basis (cv_case_disclose), and the release of
 * records that it shares with the fetch of an approved request: every
 * record that leaves is opened by the gate, and the release as a whole is
 * one audited decision.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/classes.h"
#include "base/error.h"
#include "base/util.h"
#include "gate/gate.h"
#include "gate/outcome.h"
#include "model/caseobj.h"
#include "model/recstore.h"
#include "model/session.h"
#include "ops/case_txn.h"
#include "ops/disclosure.h"

static const char *const bases[] = {
    "tpks_police_report", /* UU 12/2022 (TPKS) art. 41: police, 3x24 h */
    "court_order",        /* an order of a court */
    "child_protection",   /* UU 35/2014: a child in danger */
    "medical_emergency",  /* life or health at immediate risk */
    "law_enforcement",    /* a written request under KUHAP */
};

static const char *const recipients[] = {
    "police",
    "court",
    "prosecutor",
    "health_service",
    "social_service",
    "other",
};

const char *
cv_disclosure_basis(size_t i)
{
	return i < CV_ARRAY_LEN(bases) ? bases[i] : NULL;
}

const char *
cv_disclosure_recipient(size_t i)
{
	return i < CV_ARRAY_LEN(recipients) ? recipients[i] : NULL;
}

static int
in_list(const char *v, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

/* Refuse a value that is not in LIST, naming the list from the table. */
static int
not_listed(const char *what, const char *const *list, size_t n)
{
	char names[256];
	size_t i, off = 0;

	names[0] = '\0';
	for (i = 0; i < n && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off,
		    "%s%s", i ? ", " : "", list[i]);
	cv_error_set("%s is one of %s", what, names);
	return CV_EINVAL;
}

/* A keyed hash of what left, so a disclosed copy can be matched later
 * without the trail holding anything that could be guessed from it. */
static void
disclosed_hash(const struct cv_session *s, const json_t *rec, char out[65])
{
	uint8_t h[32];
	char *text = cv_json_canonical(json_object_get(rec, "data"));

	crypto_generichash(h, sizeof(h), (const uint8_t *)(text ? text : ""),
	    text ? strlen(text) : 0, s->keys->pseudo, CV_KEYBYTES);
	sodium_bin2hex(out, 65, h, sizeof(h));
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
}

/*
 * A record that holds none of ONLY is skipped, and one the gate refuses
 * whole is left out, its refusal on the trail: the release is refused
 * only when nothing at all may leave.
 */
int
cv_disclosure_release(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, const char *op,
    enum cv_action action, cv_classmask only, const char *purpose,
    const char *request, const json_t *extra, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = action,
	    .op = "disclosure",
	    .case_id = case_id,
	    .meta = meta,
	    .classes = only,
	    .purpose = purpose,
	    .partial = 1,
	    .request = request};
	struct cv_gate_res res;
	json_t *ids = NULL, *recs = NULL, *hashes = NULL, *rec, *ev = NULL;
	json_t *id, *w;
	cv_classmask withheld = 0;
	char hex[65];
	size_t i, j;
	int r;

	*out = NULL;
	if ((r = cv_rec_list(txn, s, case_id, NULL, &ids)) != 0)
		goto out;
	if ((recs = json_array()) == NULL || (hashes = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	json_array_foreach (ids, i, id) {
		r = cv_gate_read_record_as(s, txn, case_id, meta,
		    (uint32_t)json_integer_value(json_array_get(id, 0)), 0, op,
		    action, only, purpose, request, &rec);
		if (r == CV_ENOTFOUND)
			continue;
		if (r == CV_EDENIED) {
			/* Refused whole: its classes were withheld. */
			continue;
		}
		if (r != 0)
			goto out;
		json_array_foreach (json_object_get(rec, "withheld"), j, w)
			withheld |=
			    CV_CLASS_BIT(cv_class_parse(json_string_value(w)));
		disclosed_hash(s, rec, hex);
		json_array_append_new(hashes,
		    json_pack("{s:I, s:I, s:s}", "record",
		        json_integer_value(json_object_get(rec, "record")),
		        "version",
		        json_integer_value(json_object_get(rec, "version")),
		        "hash", hex));
		json_array_append_new(recs, rec);
	}
	if (json_array_size(recs) == 0) {
		cv_error_set("nothing the consent, request and policy allow "
		             "was found");
		r = CV_EDENIED;
		goto out;
	}
	/* The gate adds the classes, purpose, rule and request it relied
	 * on; the caller's EXTRA what it knows of the release. */
	if ((ev = extra != NULL ? json_deep_copy(extra) : json_object()) ==
	    NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	json_object_set_new(ev, "via", json_string(op));
	json_object_set_new(ev, "records", hashes);
	hashes = NULL;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	*out = json_pack("{s:s, s:o, s:o}", "case", case_id, "records", recs,
	    "withheld", cv_classes_json(withheld));
	recs = NULL;
	if (*out == NULL)
		r = CV_ENOMEM;
out:
	json_decref(ids);
	json_decref(recs);
	json_decref(hashes);
	json_decref(ev);
	return r;
}

int
cv_case_disclose(struct cv_session *s, const char *case_id,
    const json_t *classes, const char *basis, const char *recipient,
    const char *note, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_DISCLOSE,
	    .op = "disclose.decide",
	    .case_id = case_id,
	    .write = 1};
	struct cv_gate_res res;
	char id[12];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *d = NULL, *ev = NULL, *wev = NULL, *rel = NULL;
	cv_classmask m;
	uint64_t version;
	int r;

	cv_error_clear();
	*out = NULL;
	if (cv_classes_parse(classes, &m) != 0) {
		cv_error_set("unknown class in the list");
		return CV_EINVAL;
	}
	if (!in_list(basis, bases, CV_ARRAY_LEN(bases)))
		return not_listed("a legal basis", bases, CV_ARRAY_LEN(bases));
	if (!in_list(recipient, recipients, CV_ARRAY_LEN(recipients)))
		return not_listed(
		    "a recipient", recipients, CV_ARRAY_LEN(recipients));
	if (note != NULL && strlen(note) > CV_DISCLOSURE_NOTE_MAX) {
		cv_error_set("the note has at most %d characters",
		    CV_DISCLOSURE_NOTE_MAX);
		return CV_EINVAL;
	}
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		return r;
	cv_casedata_id_new('D', id);
	ev = json_pack("{s:s, s:s, s:s}", "disclosure", id, "legal_basis",
	    basis, "recipient_kind", recipient);
	d = json_pack("{s:s, s:I, s:I, s:s, s:s, s:o, s:b}", "id", id, "user",
	    (json_int_t)s->uid, "opened", (json_int_t)cv_now_ms(),
	    "legal_basis", basis, "recipient", recipient, "classes",
	    cv_classes_json(m), "reviewed", 0);
	/* The release's reads name the disclosure, not its write. */
	if (d == NULL || ev == NULL || (wev = json_deep_copy(ev)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if (note != NULL)
		json_object_set_new(d, "note", json_string(note));
	if ((r = cv_casedata_stage(txn, s, case_id, CV_CD_DISCLOSURE, id, d,
	         &wev, &version)) != 0)
		goto out;
	/* Every asked class must be allowed: a disclosure is not partial. */
	q.meta = meta;
	q.classes = m;
	if ((r = cv_gate_check(s, txn, &q, wev, &res)) != 0)
		goto out;
	if ((r = cv_disclosure_release(s, txn, case_id, meta, "disclose",
	         CV_ACTION_DISCLOSE, m, NULL, NULL, ev, &rel)) != 0)
		goto out;
	if ((r = cv_case_txn_put_indexed(s, &txn, case_id, CV_CD_DISCLOSURE, id,
	         d, version, res.seq)) != 0)
		goto out;
	json_object_set_new(rel, "disclosure", json_string(id));
	json_object_set_new(rel, "legal_basis", json_string(basis));
	*out = rel;
	rel = NULL;
out:
	cv_outcome_end(s, &txn, r);
	json_decref(meta);
	json_decref(d);
	json_decref(ev);
	json_decref(wev);
	json_decref(rel);
	return r;
}
