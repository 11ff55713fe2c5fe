#define _GNU_SOURCE
/*
 * Served mode: the daemon's vault, unlocked once by a key custodian, on
 * which many threads each log in and work with a session of their own.
 * Every login costs one Argon2id (counted here by wrapping libargon2's
 * entry points); a failed login is signed into the trail at once; each
 * event of a daemon session names its peer; the trail verifies and its
 * events match the operations one for one. An embedded open of a served
 * vault is refused to staff, and marked as maintenance for a custodian.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "casevault.h"
#include "base/util.h"
#include "model/session.h"
#include "store/store.h"

#include "helpers.h"
#include "helpers.c.inc"

#define THREADS 8
#define ROUNDS  3

/* ---- counting Argon2id: the library's calls land here first ---- */

static int argon2_calls;

/* libargon2's own function NAME. The wrappers below define every entry
 * point the library calls, so the linker may leave libargon2 out of the
 * binary's needs: it is opened here. */
static void *
argon2_real(const char *name)
{
	static void *lib;
	void *fn;

	if (lib == NULL)
		lib = dlopen("libargon2.so.1", RTLD_NOW | RTLD_LOCAL);
	fn = lib != NULL ? dlsym(lib, name) : NULL;
	if (fn == NULL)
		abort();
	return fn;
}

typedef int (*hash_raw_fn)(uint32_t, uint32_t, uint32_t, const void *,
    size_t, const void *, size_t, void *, size_t);
typedef int (*hash_enc_fn)(uint32_t, uint32_t, uint32_t, const void *,
    size_t, const void *, size_t, size_t, char *, size_t);
typedef int (*verify_fn)(const char *, const void *, size_t);

int
argon2id_hash_raw(const uint32_t t, const uint32_t m, const uint32_t p,
    const void *pwd, const size_t pwdlen, const void *salt,
    const size_t saltlen, void *hash, const size_t hashlen)
{
	hash_raw_fn real = (hash_raw_fn)argon2_real("argon2id_hash_raw");

	__atomic_add_fetch(&argon2_calls, 1, __ATOMIC_SEQ_CST);
	return real(t, m, p, pwd, pwdlen, salt, saltlen, hash, hashlen);
}

int
argon2id_hash_encoded(const uint32_t t, const uint32_t m, const uint32_t p,
    const void *pwd, const size_t pwdlen, const void *salt,
    const size_t saltlen, const size_t hashlen, char *encoded,
    const size_t encodedlen)
{
	hash_enc_fn real =
	    (hash_enc_fn)argon2_real("argon2id_hash_encoded");

	__atomic_add_fetch(&argon2_calls, 1, __ATOMIC_SEQ_CST);
	return real(
	    t, m, p, pwd, pwdlen, salt, saltlen, hashlen, encoded, encodedlen);
}

int
argon2id_verify(const char *encoded, const void *pwd, const size_t pwdlen)
{
	verify_fn real = (verify_fn)argon2_real("argon2id_verify");

	__atomic_add_fetch(&argon2_calls, 1, __ATOMIC_SEQ_CST);
	return real(encoded, pwd, pwdlen);
}

static int
argon2_count(void)
{
	return __atomic_load_n(&argon2_calls, __ATOMIC_SEQ_CST);
}

/* ---- fixtures ---- */

static const struct test_staff staff[] = {
	{"siti", "counselor", 1},
	{"rina", "social_worker", 0},
	{"kepala", "supervisor", 0},
	{"inspektur", "auditor", 0},
};

struct fx {
	char dir[64];
	char names[THREADS][16];
};

/* A served vault with the staff above and THREADS counselors w0..w7. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cv_session *a;
	size_t i;

	assert_non_null(f);
	a = test_served_new(f->dir);
	for (i = 0; i < TEST_COUNT(staff); i++)
		assert_int_equal(cv_user_add(a, staff[i].name, staff[i].role,
		                     staff[i].trained ? CV_USER_TRAINED : 0,
		                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
		    0);
	for (i = 0; i < THREADS; i++) {
		snprintf(f->names[i], sizeof(f->names[i]), "w%zu", i);
		assert_int_equal(cv_user_add(a, f->names[i], "counselor", 0,
		                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
		    0);
	}
	cv_session_close(a);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	test_vault_remove(f->dir);
	free(f);
	return 0;
}

static struct cv_vault *
unlock(const char *dir)
{
	struct cv_vault *v = NULL;

	assert_int_equal(cv_vault_unlock(dir, "admin", TEST_PASS_ADMIN,
	                     strlen(TEST_PASS_ADMIN), &v),
	    0);
	return v;
}

static struct cv_session *
login(struct cv_vault *v, const char *user, const char *pass, int64_t pid)
{
	struct cv_peer p = {pid, 1000 + pid, 2000 + pid};
	struct cv_session *s = NULL;

	assert_int_equal(cv_vault_login(v, user, pass, strlen(pass), &p, &s), 0);
	return s;
}

/* The whole trail, read by the auditor through the daemon. */
static json_t *
trail(struct cv_vault *v)
{
	struct cv_session *s = login(v, "inspektur", TEST_PASS_STAFF, 1);
	json_t *log = NULL;

	assert_int_equal(cv_audit_log(s, NULL, NULL, 0, 0, &log), 0);
	cv_session_end(s, "logout");
	return log;
}

/* Events of LOG with ACTION, and (when not NULL) KEY equal to the string
 * VAL, counted. */
static size_t
count_events(const json_t *log, const char *action, const char *key,
    const char *val)
{
	const json_t *ev;
	size_t i, n = 0;

	json_array_foreach (log, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "action")),
		        action) != 0)
			continue;
		if (key != NULL &&
		    (json_string_value(json_object_get(ev, key)) == NULL ||
		        strcmp(json_string_value(json_object_get(ev, key)),
		            val) != 0))
			continue;
		n++;
	}
	return n;
}

/* The pid of EV's peer, or -1 when it names none. */
static int64_t
peer_pid(const json_t *ev)
{
	const json_t *p = json_object_get(json_object_get(ev, "peer"), "pid");

	return json_is_integer(p) ? (int64_t)json_integer_value(p) : -1;
}

/* ---- the threads ---- */

struct worker {
	struct cv_vault *v;
	const char *name;
	int64_t pid;
	char cid[CV_CASE_ID_LEN + 1];
	uint32_t records[ROUNDS];
	int failed;
};

/* One thread: log in, open a case, add and read back ROUNDS notes, end. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	struct cv_peer p = {w->pid, 1000 + w->pid, 2000 + w->pid};
	struct cv_session *s = NULL;
	char text[64];
	json_t *d, *out;
	int i;

	if (cv_vault_login(w->v, w->name, TEST_PASS_STAFF,
	        strlen(TEST_PASS_STAFF), &p, &s) != 0) {
		w->failed = 1;
		return NULL;
	}
	if (cv_case_open(s, NULL, w->cid) != 0)
		w->failed = 2;
	for (i = 0; i < ROUNDS && !w->failed; i++) {
		snprintf(text, sizeof(text), "%s note %d", w->name, i);
		d = json_pack("{s:s, s:s, s:s}", "session_date", "2025-05-21",
		    "kind", "follow_up", "text", text);
		if (cv_record_add(s, w->cid, "note", d, &w->records[i]) != 0)
			w->failed = 3;
		json_decref(d);
		out = NULL;
		if (!w->failed &&
		    (cv_record_show(s, w->cid, w->records[i], 0, NULL, &out) !=
		            0 ||
		        strcmp(json_string_value(json_object_get(
		                   json_object_get(out, "data"), "text")),
		            text) != 0))
			w->failed = 4;
		json_decref(out);
	}
	cv_session_end(s, "logout");
	return NULL;
}

static void
t_threads(void **state)
{
	struct fx *f = *state;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct cv_session *a;
	json_t *log, *ver = NULL, *ev;
	size_t i, j, per[THREADS];
	struct cv_vault *v = unlock(f->dir);

	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].v = v;
		w[i].name = f->names[i];
		w[i].pid = 100 + (int64_t)i;
		assert_int_equal(
		    pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failed, 0);
	}

	/* Every operation of every thread is in the trail, naming its
	 * thread's peer: a login, a case opened, the notes added and read,
	 * the end. */
	log = trail(v);
	memset(per, 0, sizeof(per));
	json_array_foreach (log, j, ev) {
		int64_t pid = peer_pid(ev);

		if (pid >= 100 && pid < 100 + THREADS)
			per[pid - 100]++;
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(per[i], 1 + 1 + 2 * ROUNDS + 1);
	assert_int_equal(count_events(log, "session.open", "outcome",
	                     "success"),
	    THREADS + 1);
	assert_int_equal(
	    count_events(log, "session.close", "reason", "logout"), THREADS);
	assert_int_equal(count_events(log, "record.add", "decision", "allow"),
	    THREADS * ROUNDS);
	assert_int_equal(count_events(log, "vault.unlock", NULL, NULL), 1);
	json_decref(log);
	cv_vault_close(v);

	/* The seal is recorded and the trail verifies, store included. */
	v = unlock(f->dir);
	a = login(v, "inspektur", TEST_PASS_STAFF, 2);
	assert_int_equal(cv_audit_verify(a, NULL, NULL, &ver), 0);
	assert_true(json_is_true(json_object_get(ver, "ok")));
	json_decref(ver);
	assert_int_equal(cv_audit_log(a, NULL, NULL, 0, 0, &log), 0);
	assert_int_equal(count_events(log, "vault.seal", NULL, NULL), 1);
	json_decref(log);
	cv_session_end(a, "logout");
	cv_vault_close(v);
}

/* ---- logins ---- */

static void
t_login_one_argon2(void **state)
{
	struct fx *f = *state;
	struct cv_vault *v;
	struct cv_session *s = NULL;
	int before;

	/* The unlock: the custodian's keyslot, one Argon2id. */
	before = argon2_count();
	v = unlock(f->dir);
	assert_int_equal(argon2_count() - before, 1);
	/* A daemon login: the verifier, one. */
	before = argon2_count();
	s = login(v, "siti", TEST_PASS_STAFF, 7);
	assert_int_equal(argon2_count() - before, 1);
	cv_session_end(s, "logout");
	/* A wrong passphrase and an unknown name cost the same. */
	before = argon2_count();
	assert_int_equal(cv_vault_login(v, "siti", "wrong-passphrase-1", 18,
	                     NULL, &s),
	    CV_EAUTH);
	assert_int_equal(argon2_count() - before, 1);
	before = argon2_count();
	assert_int_equal(cv_vault_login(v, "nobody", "wrong-passphrase-1", 18,
	                     NULL, &s),
	    CV_EAUTH);
	assert_int_equal(argon2_count() - before, 1);
	cv_vault_close(v);
	/* An embedded open, of the custodian: one. */
	before = argon2_count();
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	assert_int_equal(argon2_count() - before, 1);
	cv_session_close(s);
}

static void
t_embedded_one_argon2(void **state)
{
	struct cv_session *a, *s;
	char dir[64];
	int before;

	(void)state;
	a = test_vault_new(dir);
	assert_int_equal(cv_user_add(a, "siti", "counselor", 0,
	                     TEST_PASS_STAFF, strlen(TEST_PASS_STAFF)),
	    0);
	cv_session_close(a);
	/* Staff of an embedded vault: the keyslot is the check. */
	before = argon2_count();
	s = test_login(dir, "siti", TEST_PASS_STAFF);
	assert_int_equal(argon2_count() - before, 1);
	cv_session_close(s);
	before = argon2_count();
	assert_int_equal(cv_session_open(dir, "siti", "wrong-passphrase-1",
	                     18, &s),
	    CV_EAUTH);
	assert_int_equal(argon2_count() - before, 1);
	before = argon2_count();
	assert_int_equal(cv_session_open(dir, "nobody", "wrong-passphrase-1",
	                     18, &s),
	    CV_EAUTH);
	assert_int_equal(argon2_count() - before, 1);
	test_vault_remove(dir);
}

/* A failed daemon login is in the trail at once, with its peer. */
static void
t_failure_signed(void **state)
{
	struct fx *f = *state;
	struct cv_peer p = {4242, 5, 6};
	struct cv_vault *v = unlock(f->dir);
	struct cv_session *s = NULL;
	json_t *log, *ev;
	size_t i, n = 0;

	assert_int_equal(cv_vault_login(v, "rina", "wrong-passphrase-1", 18,
	                     &p, &s),
	    CV_EAUTH);
	assert_null(s);
	assert_int_equal(cv_vault_login(v, "nobody", "wrong-passphrase-1", 18,
	                     &p, &s),
	    CV_EAUTH);
	log = trail(v);
	json_array_foreach (log, i, ev) {
		if (peer_pid(ev) != 4242)
			continue;
		assert_string_equal(
		    json_string_value(json_object_get(ev, "action")),
		    "session.open");
		assert_string_equal(
		    json_string_value(json_object_get(ev, "decision")), "deny");
		if (n == 0) {
			assert_string_equal(
			    json_string_value(json_object_get(ev, "rule")),
			    "wrong-passphrase");
			assert_string_equal(
			    json_string_value(json_object_get(ev, "actor")),
			    "u3");
		} else {
			assert_string_equal(
			    json_string_value(json_object_get(ev, "rule")),
			    "unknown-user");
			assert_string_equal(
			    json_string_value(json_object_get(ev, "actor")),
			    "unknown");
		}
		n++;
	}
	assert_int_equal(n, 2);
	json_decref(log);
	/* Counted against the account, so the back-off holds: the third
	 * wrong one locks it. */
	assert_int_equal(cv_vault_login(v, "rina", "wrong-passphrase-1", 18,
	                     &p, &s),
	    CV_EAUTH);
	assert_int_equal(cv_vault_login(v, "rina", "wrong-passphrase-1", 18,
	                     &p, &s),
	    CV_EAUTH);
	assert_int_equal(cv_vault_login(v, "rina", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), &p, &s),
	    CV_ELOCKED);
	cv_vault_close(v);
}

/* A disabled account and an account edited outside casevault. */
static void
t_login_refusals(void **state)
{
	struct fx *f = *state;
	struct cv_vault *v = unlock(f->dir);
	struct cv_session *a, *s = NULL;
	uint8_t row[2048];
	size_t len;
	json_t *j;
	char *text;

	a = login(v, "admin", TEST_PASS_ADMIN, 1);
	assert_int_equal(cv_user_disable(a, "kepala"), 0);
	cv_session_end(a, "logout");
	assert_int_equal(cv_vault_login(v, "kepala", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    CV_EDISABLED);
	/* Promote inspektur in the raw row: the MAC no longer matches. */
	len = test_raw_get(f->dir, CV_DB_USERS, "inspektur", 9, row,
	    sizeof(row) - 1);
	row[len] = '\0';
	j = json_loads((char *)row, 0, NULL);
	assert_non_null(j);
	json_object_set_new(j, "role", json_string("admin"));
	text = json_dumps(j, JSON_COMPACT);
	test_raw_put(
	    f->dir, CV_DB_USERS, "inspektur", 9, text, strlen(text));
	free(text);
	json_decref(j);
	assert_int_equal(cv_vault_login(v, "inspektur", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), NULL, &s),
	    CV_ECRYPTO);
	assert_null(s);
	cv_vault_close(v);
}

/* Only a custodian unlocks. */
static void
t_unlock_custodian_only(void **state)
{
	struct fx *f = *state;
	struct cv_vault *v = NULL;

	assert_int_equal(cv_vault_unlock(f->dir, "siti", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), &v),
	    CV_EDENIED);
	assert_null(v);
	assert_int_equal(cv_vault_unlock(f->dir, "admin", "wrong-passphrase-1",
	                     18, &v),
	    CV_EAUTH);
	assert_null(v);
}

/* ---- embedded opens of a served vault ---- */

static void
t_embedded_refused(void **state)
{
	struct fx *f = *state;
	struct cv_session *s = NULL;
	struct cv_vault *v;
	json_t *log, *ev;
	size_t i, served = 0, maint = 0;

	assert_int_equal(cv_session_open(f->dir, "siti", TEST_PASS_STAFF,
	                     strlen(TEST_PASS_STAFF), &s),
	    CV_ESERVED);
	assert_null(s);
	assert_non_null(strstr(cv_error_detail(), "casevaultd"));
	/* A wrong passphrase is still only that: no mode is told. */
	assert_int_equal(cv_session_open(f->dir, "siti", "wrong-passphrase-1",
	                     18, &s),
	    CV_EAUTH);
	/* The custodian opens it for maintenance, said in the trail, where
	 * the refusal waited in the queue. */
	s = test_login(f->dir, "admin", TEST_PASS_ADMIN);
	cv_session_close(s);
	v = unlock(f->dir);
	log = trail(v);
	cv_vault_close(v);
	json_array_foreach (log, i, ev) {
		const char *rule =
		    json_string_value(json_object_get(ev, "rule"));

		if (rule != NULL && strcmp(rule, "served") == 0)
			served++;
		if (json_is_true(json_object_get(ev, "maintenance")))
			maint++;
	}
	assert_int_equal(served, 1);
	assert_int_equal(maint, 1);
	json_decref(log);
}

/* ---- reloading the policy set ---- */

static void
t_reload(void **state)
{
	struct fx *f = *state;
	struct cv_vault *v = unlock(f->dir);
	struct cv_session *old, *a, *neu;
	char pdir[96], cmd[512], before[65];
	json_t *log;

	old = login(v, "siti", TEST_PASS_STAFF, 11);
	snprintf(before, sizeof(before), "%s", old->policy_hash);
	/* A different set is deployed (a comment more in one file). */
	snprintf(pdir, sizeof(pdir), "%s.pol", f->dir);
	snprintf(cmd, sizeof(cmd),
	    "mkdir -p %s && cp policies/*.policy %s && "
	    "echo '# reviewed' >> %s/admin.policy",
	    pdir, pdir, pdir);
	assert_int_equal(system(cmd), 0);
	a = login(v, "admin", TEST_PASS_ADMIN, 12);
	assert_int_equal(cv_policy_deploy(a, pdir), 0);
	cv_session_end(a, "logout");
	/* Not in force for new sessions until the reload. */
	neu = login(v, "rina", TEST_PASS_STAFF, 13);
	assert_string_equal(neu->policy_hash, before);
	cv_session_end(neu, "logout");
	assert_int_equal(cv_vault_reload(v), 0);
	neu = login(v, "rina", TEST_PASS_STAFF, 14);
	assert_string_not_equal(neu->policy_hash, before);
	/* The session from before keeps its set, and works with it. */
	assert_string_equal(old->policy_hash, before);
	assert_ptr_not_equal(old->policy, neu->policy);
	assert_int_equal(cv_case_open(old, NULL, (char[12]){0}), 0);
	cv_session_end(old, "expired");
	cv_session_end(neu, "logout");
	log = trail(v);
	assert_int_equal(count_events(log, "policy.reload", "old_policy",
	                     before),
	    1);
	assert_int_equal(
	    count_events(log, "session.close", "reason", "expired"), 1);
	json_decref(log);
	cv_vault_close(v);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pdir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        t_login_one_argon2, setup, teardown),
	    cmocka_unit_test(t_embedded_one_argon2),
	    cmocka_unit_test_setup_teardown(t_failure_signed, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_login_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        t_unlock_custodian_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        t_embedded_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_reload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
