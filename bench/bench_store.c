/*
 * Encrypted record write and read against raw store put and get of the
 * same sizes, in the same run, on the same disk. Reports medians of repeated
 * rounds and the ratios the aims are stated in:
 *   read:  open + decrypt + parse   vs  raw get + decrypt   (aim <= 3x)
 *   write: seal + durable commit    vs  raw durable put     (aim <= 1.5x)
 * where parse is what the gate does to a payload before its redaction:
 * read it into a document (src/base/cbor.h). For information, also: the
 * same plus the view the gate hands out to a reader allowed every class
 * (jansson values made from the document), and the full audited path
 * (gate + signed audit event + seal + commit; read: gate + audit + open +
 * decrypt + parse + redact).
 * The raw store is a second LMDB store, written and read through the same
 * store API (src/store/store.h) with no record format, case key or
 * gate; it holds the same bytes the vault seals: the record's CBOR payload
 * (src/base/cbor.h), sealed once with a fixed key. The records are
 * counselling notes of 1, 4 and 16 KiB (one long text field), and the
 * intake fixture (tests/fixtures/records/intake_valid.json: 31 keys and
 * 23 short values, the costliest shape to decode per byte) when run from the
 * top of the tree.
 * Usage: bench_store [DIR]   (default: a new directory under /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "model/casemeta.h"
#include "casevault.h"
#include "base/crypto.h"
#include "rules/forms.h"
#include "base/cbor.h"
#include "model/recstore.h"
#include "rules/schema.h"
#include "store/store.h"
#include "base/util.h"
#include "model/session.h"

#define ROUNDS 7

/* A counselling note of about SIZE bytes of prose-like text. */
static json_t *
make_record(size_t size)
{
	static const char words[] = "she said the shelter felt safe today ";
	char *pad = malloc(size);
	json_t *j;
	size_t i;

	for (i = 0; i + 1 < size; i++)
		pad[i] = words[i % (sizeof(words) - 1)];
	pad[size - 1] = '\0';
	j = json_pack("{s:s, s:s, s:s}", "text", pad, "session_date",
	    "2026-11-01", "kind", "follow_up");
	free(pad);
	return j;
}

#define INTAKE "tests/fixtures/records/intake_valid.json"

/* The intake fixture, or NULL when it is not there. */
static json_t *
intake_record(void)
{
	json_t *j = NULL;
	size_t len;
	char *text;

	if (cv_read_file(INTAKE, CV_RECORD_MAX, &text, &len) != 0)
		return NULL;
	if (cv_json_parse_object(text, len, CV_RECORD_MAX, &j) != 0)
		j = NULL;
	free(text);
	return j;
}

static struct cv_store *
raw_open(const char *path)
{
	struct cv_store *st;

	if (mkdir(path, 0700) != 0 || cv_store_create(path, &st) != 0) {
		fprintf(stderr, "cannot create %s\n", path);
		exit(1);
	}
	return st;
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = {1024, 4096, 16384, 0}; /* 0: intake */
	char tmpl[] = "/tmp/cvbench.XXXXXX", path[256], vdir[256];
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	struct cv_session *s;
	struct cv_store *raw;
	uint8_t casekey[CV_KEYBYTES], rawkey[CV_KEYBYTES], ad[64];
	char cid[CV_CASE_ID_LEN + 1], cfull[CV_CASE_ID_LEN + 1];
	double t_raw_w[ROUNDS], t_enc_w[ROUNDS], t_raw_r[ROUNDS],
	    t_enc_r[ROUNDS], t_dec_r[ROUNDS], t_view_r[ROUNDS],
	    t_full_w[ROUNDS], t_full_r[ROUNDS];
	size_t si;
	int round, i, n;

	setenv("CASEVAULT_TEST_KDF", "insecure", 1);
	if (dir == NULL || cv_library_init() != 0)
		return 1;
	snprintf(vdir, sizeof(vdir), "%s/vault", dir);
	snprintf(path, sizeof(path), "%s/raw", dir);
	if (cv_vault_create(vdir, "admin", "bench-passphrase", 16, &s) != 0)
		return 1;
	cv_user_add(
	    s, "siti", "counselor", CV_USER_TRAINED, "bench-passphrase", 16);
	cv_session_close(s);
	if (cv_session_open(vdir, "siti", "bench-passphrase", 16, &s) != 0 ||
	    cv_case_open(s, NULL, cid) != 0 ||
	    cv_case_open(s, NULL, cfull) != 0)
		return 1;
	raw = raw_open(path);
	randombytes_buf(ad, sizeof(ad));
	randombytes_buf(rawkey, sizeof(rawkey));

	printf("# casevault store benchmark: medians of %d rounds\n", ROUNDS);
	printf("%-6s %-4s %10s %10s %6s | %10s %10s %6s %10s %6s %10s %6s | "
	       "%10s %10s\n", "size", "ops", "raw put", "sealed", "ratio",
	    "raw get", "open+dec", "ratio", "+parse", "ratio", "+view",
	    "ratio", "full write", "full read");
	printf("%-6s %-4s %10s %10s %6s | %10s %10s %6s %10s %6s %10s %6s | "
	       "%10s %10s\n", "", "", "durable", "durable", "", "+decrypt", "",
	    "", "(doc)", "", "(jansson)", "", "audited", "audited");
	for (si = 0; si < CV_ARRAY_LEN(sizes); si++) {
		json_t *rec = sizes[si] != 0 ? make_record(sizes[si])
		                             : intake_record();
		const char *type = sizes[si] != 0 ? "note" : "intake";
		uint8_t *payload, *sealed, *plain;
		char label[24];
		size_t len;
		n = 200;

		if (rec == NULL)
			continue;
		if (sizes[si] != 0)
			snprintf(label, sizeof(label), "%zu", sizes[si]);
		else
			snprintf(label, sizeof(label), "intake");
		if (cv_rec_encode(rec, &payload, &len) != 0)
			return 1;
		sealed = malloc(len + CV_SEALOVERHEAD);
		plain = malloc(len + 1);
		cv_seal(rawkey, ad, sizeof(ad), payload, len, sealed);
		for (round = 0; round < ROUNDS; round++) {
			struct cv_txn *txn;
			struct cv_val v;
			uint32_t base = (uint32_t)(si * 100000 + round * 1000);
			double t0;

			/* Raw durable put: one commit (fsync) per record. */
			t0 = bench_now();
			for (i = 0; i < n; i++) {
				uint8_t rk[8];
				cv_put_be64(rk, base + (uint32_t)i);
				cv_txn_begin(raw, CV_TXN_WRITE, &txn);
				cv_put(txn, CV_DB_RECORDS, rk, 8, sealed,
				    len + CV_SEALOVERHEAD, 0);
				cv_txn_commit(txn);
			}
			t_raw_w[round] = (bench_now() - t0) / n;

			/* Sealed put through the record format: unwrap the
			 * case key, seal with bound AD, durable commit. */
			t0 = bench_now();
			for (i = 0; i < n; i++) {
				struct cv_rec_hdr h = {
				    .type = "", .author = 1, .classes = 1};
				snprintf(h.type, sizeof(h.type), "%s", type);
				cv_txn_begin(s->st, CV_TXN_WRITE, &txn);
				cv_casekey_get(txn, s, cid, casekey);
				cv_rec_put(txn, s, cid, base + (uint32_t)i, 1,
				    &h, casekey, payload, len);
				cv_txn_commit(txn);
			}
			t_enc_w[round] = (bench_now() - t0) / n;

			/* Raw get + decrypt. */
			t0 = bench_now();
			for (i = 0; i < n; i++) {
				uint8_t rk[8];
				cv_put_be64(rk, base + (uint32_t)i);
				cv_txn_begin(raw, CV_TXN_RDONLY, &txn);
				if (cv_get(txn, CV_DB_RECORDS, rk, 8, &v) != 0 ||
				    cv_open(rawkey, ad, sizeof(ad), v.data,
				    v.len, plain) != 0)
					return 1;
				cv_txn_abort(txn);
			}
			t_raw_r[round] = (bench_now() - t0) / n;

			/* Open, unwrap, decrypt: the sealed format alone. */
			t0 = bench_now();
			for (i = 0; i < n; i++) {
				uint8_t *out;
				size_t olen;
				int fmt;
				cv_txn_begin(s->st, CV_TXN_RDONLY, &txn);
				cv_casekey_get(txn, s, cid, casekey);
				if (cv_rec_decrypt(txn, s, cid,
				    base + (uint32_t)i, 1, casekey, &out,
				    &olen, &fmt) != 0)
					return 1;
				sodium_memzero(out, olen);
				free(out);
				cv_txn_abort(txn);
			}
			t_dec_r[round] = (bench_now() - t0) / n;

			/* Open, unwrap, decrypt, parse: what the gate
			 * does to a record before it redacts. */
			t0 = bench_now();
			for (i = 0; i < n; i++) {
				struct cv_doc doc;
				uint8_t *out;
				size_t olen;
				int fmt;
				cv_txn_begin(s->st, CV_TXN_RDONLY, &txn);
				cv_casekey_get(txn, s, cid, casekey);
				if (cv_rec_decrypt(txn, s, cid,
				    base + (uint32_t)i, 1, casekey, &out,
				    &olen, &fmt) != 0 ||
				    cv_rec_parse_doc(fmt, out, olen, &doc) != 0)
					return 1;
				cv_doc_free(&doc);
				sodium_memzero(out, olen);
				free(out);
				cv_txn_abort(txn);
			}
			t_enc_r[round] = (bench_now() - t0) / n;

			/* ... and the view for a reader allowed everything. */
			t0 = bench_now();
			for (i = 0; i < n; i++) {
				struct cv_doc doc;
				uint8_t *out;
				size_t olen;
				json_t *j;
				int fmt;
				cv_txn_begin(s->st, CV_TXN_RDONLY, &txn);
				cv_casekey_get(txn, s, cid, casekey);
				if (cv_rec_decrypt(txn, s, cid,
				    base + (uint32_t)i, 1, casekey, &out,
				    &olen, &fmt) != 0 ||
				    cv_rec_parse_doc(fmt, out, olen, &doc) != 0 ||
				    cv_schema_redact_doc(cv_forms_schema(type),
				    &doc, CV_CLASS_ALL, &j, NULL) != 0)
					return 1;
				json_decref(j);
				cv_doc_free(&doc);
				sodium_memzero(out, olen);
				free(out);
				cv_txn_abort(txn);
			}
			t_view_r[round] = (bench_now() - t0) / n;

			/* The full audited paths, fewer ops. */
			t0 = bench_now();
			for (i = 0; i < 20; i++) {
				uint32_t rid;
				if (cv_record_add(s, cfull, type, rec, &rid) !=
				    0)
					return 1;
			}
			t_full_w[round] = (bench_now() - t0) / 20;
			t0 = bench_now();
			for (i = 0; i < 20; i++) {
				json_t *out;
				if (cv_record_show(s, cfull, 1 + (uint32_t)i, 0,
				    NULL, &out) != 0)
					return 1;
				json_decref(out);
			}
			t_full_r[round] = (bench_now() - t0) / 20;
		}
		{
			double rw = bench_median(t_raw_w, ROUNDS);
			double ew = bench_median(t_enc_w, ROUNDS);
			double rr = bench_median(t_raw_r, ROUNDS);
			double er = bench_median(t_enc_r, ROUNDS);
			double dr = bench_median(t_dec_r, ROUNDS);
			double vr = bench_median(t_view_r, ROUNDS);
			printf("%-6s %-4d %8.1fus %8.1fus %5.2fx | %8.1fus "
			       "%8.1fus %5.2fx %8.1fus %5.2fx %8.1fus %5.2fx | "
			       "%8.1fus %8.1fus\n", label, n, rw * 1e6,
			    ew * 1e6, ew / rw, rr * 1e6, dr * 1e6, dr / rr,
			    er * 1e6, er / rr, vr * 1e6, vr / rr,
			    bench_median(t_full_w, ROUNDS) * 1e6,
			    bench_median(t_full_r, ROUNDS) * 1e6);
		}
		sodium_memzero(payload, len);
		free(payload);
		free(sealed);
		free(plain);
		json_decref(rec);
	}
	cv_session_close(s);
	cv_store_close(raw);
	return 0;
}
