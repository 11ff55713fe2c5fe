/*
 * Record commands: add, amend, show, list, history. Every version is a new
 * sealed value (append-only); reading goes through the gate, which alone
 * opens a sealed record.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "model/casemeta.h"
#include "casevault.h"
#include "base/error.h"
#include "rules/forms.h"
#include "gate/gate.h"
#include "gate/event.h"
#include "gate/outcome.h"
#include "base/cbor.h"
#include "model/recstore.h"
#include "ops/case_txn.h"
#include "ops/record.h"
#include "rules/schema.h"
#include "store/store.h"
#include "base/util.h"
#include "model/session.h"

int
cv_record_validate(const char *type, const json_t *data, cv_classmask *classes,
    char *err, size_t errlen)
{
	const struct cv_schema *sc;
	char *text;
	size_t n;
	int r;

	*classes = 0;
	err[0] = '\0';
	if (!json_is_object(data)) {
		snprintf(err, errlen, "record: must be a JSON object");
		return CV_ESCHEMA;
	}
	if ((sc = cv_forms_schema(type)) == NULL) {
		snprintf(err, errlen, "unknown record type");
		return CV_EINVAL;
	}
	if ((text = cv_json_canonical(data)) == NULL)
		return CV_ENOMEM;
	n = strlen(text);
	sodium_memzero(text, n);
	free(text);
	if (n > CV_RECORD_MAX) {
		snprintf(
		    err, errlen, "record: larger than %d bytes", CV_RECORD_MAX);
		return CV_ETOOBIG;
	}
	if ((r = cv_schema_validate(sc, data, cv_now_ms(), err, errlen)) != 0)
		return r;
	*classes = cv_schema_classes(sc, data);
	return 0;
}

/* One intake per case: its corrections are amendments. */
static int
one_intake(struct cv_txn *txn, struct cv_session *s, const char *case_id,
    const char *type)
{
	json_t *ids = NULL;
	int r;

	if (strcmp(type, "intake") != 0)
		return 0;
	if ((r = cv_rec_list(txn, s, case_id, "intake", &ids)) != 0)
		return r;
	if (json_array_size(ids) > 0) {
		cv_error_set("the case has its intake already (record %lld); "
		             "correct it with record amend",
		    (long long)json_integer_value(
		        json_array_get(json_array_get(ids, 0), 0)));
		r = CV_EEXIST;
	}
	json_decref(ids);
	return r;
}

/*
 * Write a version of a record: version 1 of a new record when RECORD is 0,
 * else the next version of RECORD, which keeps its type TYPE. The record
 * id and the version are decided inside the write transaction, before the
 * gate's event, and so is every check that could refuse the put: LMDB
 * has one writer at a time, so what is decided here still holds at the
 * commit, and an audited write fails only on an error of the store, whose
 * event is then closed at once as not applied. *RECORD_OUT and *VERSION
 * are set on success.
 */
static int
write_version(struct cv_session *s, const char *case_id, uint32_t record,
    const char *type, const json_t *data, uint32_t *record_out,
    uint32_t *version)
{
	int amend = record != 0;
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = amend ? CV_ACTION_AMEND : CV_ACTION_WRITE,
	    .op = amend ? "record.amend" : "record.add",
	    .case_id = case_id,
	    .write = 1};
	struct cv_gate_res res;
	struct cv_rec_hdr h;
	uint8_t key[CV_KEYBYTES];
	struct cv_txn *txn = NULL;
	json_t *meta = NULL, *ev = NULL;
	uint8_t *payload = NULL;
	size_t plen = 0;
	char err[256];
	uint64_t meta_version = 0;
	uint32_t latest = 0;
	int r;

	if ((r = cv_record_validate(
	         type, data, &q.classes, err, sizeof(err))) != 0) {
		cv_error_set("%s", err);
		return r;
	}
	/* Encoded before the gate, so a record that cannot be stored leaves
	 * no audit event behind. */
	if ((r = cv_rec_encode(data, &payload, &plen)) != 0) {
		if (r == CV_EINVAL)
			cv_error_set("record: nested too deep or holds a NUL");
		return r;
	}
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_WRITE, &txn, &meta)) != 0)
		goto out;
	if ((r = cv_case_check_open(meta)) != 0)
		goto out;
	if (amend) {
		if ((r = cv_rec_latest(txn, s, case_id, record, &latest)) != 0)
			goto out;
		if ((r = cv_rec_header(txn, s, case_id, record, latest, &h)) !=
		    0)
			goto out;
		if (strcmp(h.type, type) != 0) {
			cv_error_set("an amendment keeps the record's type");
			r = CV_EINVAL;
			goto out;
		}
		/* A version identical to the latest would record a change
		 * that is none. */
		if ((r = cv_casekey_get(txn, s, case_id, key)) != 0 ||
		    (r = cv_rec_same(txn, s, case_id, record, latest, key,
		         payload, plen)) < 0)
			goto out;
		if (r == 1) {
			cv_error_set("no change: the amendment is identical to "
			             "version %u",
			    (unsigned)latest);
			r = CV_EINVAL;
			goto out;
		}
	} else {
		if ((r = one_intake(txn, s, case_id, type)) != 0)
			goto out;
		record = (uint32_t)json_integer_value(
		    json_object_get(meta, "next_record"));
		/* A record already there means the metadata is behind the
		 * records: refused before the event, never overwritten. */
		if (record == 0 ||
		    cv_rec_latest(txn, s, case_id, record, &latest) !=
		        CV_ENOTFOUND) {
			cv_error_set("the case's next record id is taken");
			r = CV_ECORRUPT;
			goto out;
		}
		latest = 0;
	}
	q.record = record;
	q.version = latest + 1;
	/* The event names what this write stores: the version and, for a
	 * new record, the case's metadata with its next record id. */
	if ((r = cv_rec_stage(
	         s, case_id, record, latest + 1, payload, plen, &ev)) != 0)
		goto out;
	if (!amend) {
		json_object_set_new(
		    meta, "next_record", json_integer(record + 1));
		if ((r = cv_case_stage(
		         txn, s, case_id, meta, &ev, &meta_version)) != 0)
			goto out;
	}
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, ev, &res)) != 0)
		goto out;
	memset(&h, 0, sizeof(h));
	snprintf(h.type, sizeof(h.type), "%s", type);
	h.author = s->uid;
	h.time = cv_now_ms();
	h.classes = q.classes;
	h.seq = res.seq;
	if ((r = cv_casekey_get(txn, s, case_id, key)) != 0)
		goto out;
	if ((r = cv_rec_put(txn, s, case_id, record, latest + 1, &h, key,
	         payload, plen)) != 0)
		goto out;
	if (!amend &&
	    (r = cv_case_save(txn, s, case_id, meta, meta_version, res.seq)) !=
	        0)
		goto out;
	if ((r = cv_case_txn_commit(s, &txn, res.seq)) != 0)
		goto out;
	*record_out = record;
	*version = latest + 1;
out:
	sodium_memzero(key, sizeof(key));
	if (payload != NULL) {
		sodium_memzero(payload, plen);
		free(payload);
	}
	cv_outcome_end(s, &txn, r);
	json_decref(meta);
	json_decref(ev);
	return r;
}

/*
 * An assessment is what the instrument scored (cv_assessment_add), never
 * typed or changed by hand: record add and record amend refuse the type,
 * and only cv_record_add_scored writes it.
 */
static int
scored_only(const char *type)
{
	if (type == NULL || strcmp(type, "assessment") != 0)
		return 0;
	cv_error_set("an assessment is scored from its answers: use assess");
	return CV_EINVAL;
}

int
cv_record_add_scored(struct cv_session *s, const char *case_id,
    const json_t *scored, uint32_t *record_id)
{
	uint32_t version;

	cv_error_clear();
	*record_id = 0;
	return write_version(
	    s, case_id, 0, "assessment", scored, record_id, &version);
}

int
cv_record_add(struct cv_session *s, const char *case_id, const char *type,
    const json_t *data, uint32_t *record_id)
{
	uint32_t version;
	int r;

	cv_error_clear();
	*record_id = 0;
	if ((r = scored_only(type)) != 0)
		return r;
	return write_version(s, case_id, 0, type, data, record_id, &version);
}

/*
 * The next version of RECORD_ID. SCORED: DATA is an assessment as the
 * instrument scored it, and the record must be one; otherwise the record
 * must not be an assessment (scored_only).
 */
static int
amend_version(struct cv_session *s, const char *case_id, uint32_t record_id,
    const json_t *data, int scored, uint32_t *version)
{
	struct cv_rec_hdr h;
	struct cv_txn *txn;
	uint32_t latest, record;
	int r;

	cv_error_clear();
	*version = 0;
	if (record_id == 0)
		return CV_ENOTFOUND;
	/* The type, to check DATA against its schema before the write
	 * transaction; write_version checks it again inside. */
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_rec_latest(txn, s, case_id, record_id, &latest)) == 0)
		r = cv_rec_header(txn, s, case_id, record_id, latest, &h);
	cv_txn_abort(txn);
	if (r != 0)
		return r;
	if (scored && strcmp(h.type, "assessment") != 0) {
		cv_error_set("the record is not an assessment");
		return CV_EINVAL;
	}
	if (!scored && (r = scored_only(h.type)) != 0)
		return r;
	return write_version(
	    s, case_id, record_id, h.type, data, &record, version);
}

int
cv_record_amend_scored(struct cv_session *s, const char *case_id,
    uint32_t record_id, const json_t *scored, uint32_t *version)
{
	return amend_version(s, case_id, record_id, scored, 1, version);
}

int
cv_record_amend(struct cv_session *s, const char *case_id, uint32_t record_id,
    const json_t *data, uint32_t *version)
{
	cv_error_clear();
	return amend_version(s, case_id, record_id, data, 0, version);
}

int
cv_record_show(struct cv_session *s, const char *case_id, uint32_t record_id,
    uint32_t version, const char *purpose, json_t **out)
{
	struct cv_txn *txn;
	json_t *meta = NULL;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_case_load_live(txn, s, case_id, &meta)) == 0)
		r = cv_gate_read_record(s, txn, case_id, meta, record_id,
		    version, "record.show", purpose, NULL, out);
	cv_txn_abort(txn);
	json_decref(meta);
	return r;
}

int
cv_record_read_all(struct cv_session *s, struct cv_txn *txn,
    const char *case_id, const json_t *meta, const char *type, const char *op,
    const char *purpose, json_t **out)
{
	json_t *ids = NULL, *arr = NULL, *rec, *id;
	char why[200] = "";
	size_t i;
	int r;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return CV_ENOMEM;
	if ((r = cv_rec_list(txn, s, case_id, type, &ids)) != 0)
		goto out;
	/* Each record is its own decision and event; refused ones are left
	 * out, and the refusal is on the trail. */
	json_array_foreach (ids, i, id) {
		r = cv_gate_read_record(s, txn, case_id, meta,
		    (uint32_t)json_integer_value(json_array_get(id, 0)), 0, op,
		    purpose, NULL, &rec);
		if (r == CV_EDENIED) {
			snprintf(why, sizeof(why), "%s", cv_error_detail());
			continue;
		}
		if (r != 0)
			goto out;
		json_array_append_new(arr, rec);
	}
	/* Records there, none of them readable: a refusal, not an empty
	 * answer that reads as "the case holds nothing". */
	if (json_array_size(ids) > 0 && json_array_size(arr) == 0) {
		cv_error_set("none of the case's %zu records may be read: %s",
		    json_array_size(ids), why);
		r = CV_EDENIED;
		goto out;
	}
	r = 0;
	*out = arr;
	arr = NULL;
out:
	json_decref(ids);
	json_decref(arr);
	return r;
}

int
cv_record_list(struct cv_session *s, const char *case_id, const char *purpose,
    json_t **out)
{
	struct cv_txn *txn;
	json_t *meta;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_case_txn_begin(s, case_id, CV_TXN_RDONLY, &txn, &meta)) !=
	    0)
		return r;
	r = cv_record_read_all(
	    s, txn, case_id, meta, NULL, "record.show", purpose, out);
	cv_txn_abort(txn);
	json_decref(meta);
	return r;
}

struct hist_ctx {
	uint32_t record;
	json_t *arr;
};

static int
collect_version(
    uint32_t record, uint32_t version, const struct cv_rec_hdr *h, void *arg)
{
	struct hist_ctx *hc = arg;
	char t[25];

	if (record != hc->record)
		return 0;
	cv_format_time(h->time, t);
	json_array_append_new(hc->arr,
	    json_pack("{s:I, s:s, s:I, s:s, s:I}", "version",
	        (json_int_t)version, "type", h->type, "author",
	        (json_int_t)h->author, "time", t, "audit_seq",
	        (json_int_t)h->seq));
	return 0;
}

int
cv_record_history(
    struct cv_session *s, const char *case_id, uint32_t record_id, json_t **out)
{
	struct cv_gate_req q = {.who = cv_gate_subject(s),
	    .action = CV_ACTION_READ,
	    .op = "record.history",
	    .classes = CV_CLASS_BIT(CV_CLASS_CASE_ADMIN),
	    .case_id = case_id,
	    .record = record_id};
	struct hist_ctx hc = {record_id, NULL};
	struct cv_gate_res res;
	struct cv_txn *txn;
	json_t *meta = NULL;
	int r;

	cv_error_clear();
	*out = NULL;
	if ((r = cv_txn_begin(s->st, CV_TXN_RDONLY, &txn)) != 0)
		return r;
	if ((r = cv_case_load_live(txn, s, case_id, &meta)) != 0)
		goto out;
	if ((hc.arr = json_array()) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	if ((r = cv_rec_foreach(txn, s, case_id, collect_version, &hc)) != 0)
		goto out;
	if (json_array_size(hc.arr) == 0) {
		r = CV_ENOTFOUND;
		goto out;
	}
	q.meta = meta;
	if ((r = cv_gate_check(s, txn, &q, NULL, &res)) != 0)
		goto out;
	*out = hc.arr;
	hc.arr = NULL;
out:
	cv_txn_abort(txn);
	json_decref(meta);
	json_decref(hc.arr);
	return r;
}

/* "key (label)" for enum value V of the field at PATH, or NULL. */
static json_t *
labelled(const struct cv_schema *sc, const char *path, const json_t *v,
    const char *lang)
{
	const char *label;

	if (!json_is_string(v) ||
	    (label = cv_schema_label(sc, path, json_string_value(v), lang)) ==
	        NULL)
		return NULL;
	return json_sprintf("%s (%s)", json_string_value(v), label);
}

/*
 * Label, in place, every enum value in J, the value of the field at PATH
 * (LEN bytes of a CAP-byte buffer). Array levels are transparent, as in
 * the schema's paths.
 */
static void
localize(const struct cv_schema *sc, json_t *j, char *path, size_t len,
    size_t cap, const char *lang)
{
	const char *k;
	json_t *v, *l;
	size_t i, n;

	if (json_is_array(j)) {
		json_array_foreach (j, i, v) {
			if ((l = labelled(sc, path, v, lang)) != NULL)
				json_array_set_new(j, i, l);
			else
				localize(sc, v, path, len, cap, lang);
		}
		return;
	}
	json_object_foreach (j, k, v) {
		n = strlen(k);
		if (len + n + 2 > cap)
			continue;
		if (len > 0)
			path[len] = '.';
		memcpy(path + len + (len > 0), k, n + 1);
		if ((l = labelled(sc, path, v, lang)) != NULL)
			json_object_set_new(j, k, l);
		else
			localize(sc, v, path, len + (len > 0) + n, cap, lang);
		path[len] = '\0';
	}
}

int
cv_record_localize(
    const char *type, const json_t *data, const char *lang, json_t **out)
{
	const struct cv_schema *sc;
	char path[512] = "";
	json_t *copy;

	cv_error_clear();
	*out = NULL;
	if (lang == NULL ||
	    (strcmp(lang, "id") != 0 && strcmp(lang, "en") != 0))
		return CV_EINVAL;
	if ((sc = cv_forms_schema(type)) == NULL)
		return CV_EINVAL;
	if ((copy = json_deep_copy(data)) == NULL)
		return CV_ENOMEM;
	localize(sc, copy, path, 0, sizeof(path), lang);
	*out = copy;
	return 0;
}
