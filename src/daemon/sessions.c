/*
 * The sessions of the staff logged in through the socket, by token, and
 * the back-off of failed logins per peer uid.
 *
 * A token is 32 random bytes; the client holds their hex, the table only
 * their BLAKE2b hash, so a copy of the daemon's memory (it is not
 * dumpable, but still) names no token that works. A token is bound to the
 * uid that logged in: another local account that learns it cannot use it.
 * A session is used by one request at a time: a second request with the
 * same token waits for the first. A session ends on logout, when idle or
 * older than allowed ("expired"), or at shutdown, each recorded by the
 * library as "session.close" with its reason.
 */
#include <string.h>

#include <sodium.h>

#include "daemon.h"

struct entry {
	struct cv_session *s; /* NULL: a free slot */
	uint8_t hash[crypto_generichash_BYTES];
	int64_t uid;
	int64_t born, used;
	int busy;
};

static struct entry table[CVD_SESSIONS_MAX];

/* Hash the token of hex HEX into HASH; CV_ESESSION when it is no token. */
static int
token_hash(const char *hex, uint8_t hash[static crypto_generichash_BYTES])
{
	uint8_t raw[CVD_TOKEN_BYTES];
	size_t n = 0, i;

	if (strlen(hex) != CVD_TOKEN_HEX)
		return CV_ESESSION;
	for (i = 0; i < CVD_TOKEN_HEX; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		        (hex[i] >= 'a' && hex[i] <= 'f')))
			return CV_ESESSION;
	if (sodium_hex2bin(
	        raw, sizeof(raw), hex, CVD_TOKEN_HEX, NULL, &n, NULL) != 0 ||
	    n != sizeof(raw))
		return CV_ESESSION;
	crypto_generichash(
	    hash, crypto_generichash_BYTES, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

/* 1 when E has been idle or alive longer than allowed at NOW. */
static int
expired(const struct entry *e, int64_t now)
{
	return now - e->used >= (int64_t)cvd.conf.idle * 1000 ||
	    now - e->born >= (int64_t)cvd.conf.lifetime * 1000;
}

int
cvd_session_add(
    struct cv_session *s, int64_t uid, char hex[static CVD_TOKEN_HEX + 1])
{
	uint8_t raw[CVD_TOKEN_BYTES];
	struct entry *e = NULL;
	size_t i;

	pthread_mutex_lock(&cvd.lock);
	for (i = 0; i < CVD_SESSIONS_MAX && e == NULL; i++)
		if (table[i].s == NULL)
			e = &table[i];
	if (e == NULL) {
		pthread_mutex_unlock(&cvd.lock);
		return CV_EBUSY;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, CVD_TOKEN_HEX + 1, raw, sizeof(raw));
	crypto_generichash(e->hash, sizeof(e->hash), raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	e->s = s;
	e->uid = uid;
	e->born = e->used = cvd_now();
	e->busy = 0;
	pthread_mutex_unlock(&cvd.lock);
	return 0;
}

/* The entry whose hash is HASH, looked for in constant time per entry. */
static struct entry *
find(const uint8_t *hash)
{
	struct entry *e = NULL;
	size_t i;

	for (i = 0; i < CVD_SESSIONS_MAX; i++)
		if (table[i].s != NULL &&
		    sodium_memcmp(table[i].hash, hash, sizeof(table[i].hash)) ==
		        0)
			e = &table[i];
	return e;
}

int
cvd_session_take(const char *hex, int64_t uid, struct cv_session **s)
{
	uint8_t hash[crypto_generichash_BYTES];
	struct cv_session *old = NULL;
	struct entry *e;

	*s = NULL;
	if (token_hash(hex, hash) != 0)
		return CV_ESESSION;
	pthread_mutex_lock(&cvd.lock);
	for (;;) {
		if ((e = find(hash)) == NULL || e->uid != uid)
			break;
		if (e->busy) {
			pthread_cond_wait(&cvd.changed, &cvd.lock);
			continue;
		}
		if (expired(e, cvd_now())) {
			old = e->s;
			memset(e, 0, sizeof(*e));
			break;
		}
		e->busy = 1;
		*s = e->s;
		break;
	}
	pthread_mutex_unlock(&cvd.lock);
	sodium_memzero(hash, sizeof(hash));
	if (old != NULL) {
		cv_session_end(old, "expired");
		cvd_log("session expired");
	}
	return *s != NULL ? 0 : CV_ESESSION;
}

void
cvd_session_put(struct cv_session *s, int end)
{
	size_t i;

	pthread_mutex_lock(&cvd.lock);
	for (i = 0; i < CVD_SESSIONS_MAX; i++)
		if (table[i].s == s) {
			if (end)
				memset(&table[i], 0, sizeof(table[i]));
			else {
				table[i].busy = 0;
				table[i].used = cvd_now();
			}
			break;
		}
	pthread_cond_broadcast(&cvd.changed);
	pthread_mutex_unlock(&cvd.lock);
	if (end)
		cv_session_end(s, "logout");
}

/* Take out of the table every session that is not busy and, when ONLY_OLD,
 * has expired; end each with WHY. Returns how many. */
static int
sweep(int only_old, const char *why)
{
	struct cv_session *ending[CVD_SESSIONS_MAX];
	int64_t now = cvd_now();
	int n = 0, i;

	pthread_mutex_lock(&cvd.lock);
	for (i = 0; i < CVD_SESSIONS_MAX; i++)
		if (table[i].s != NULL && !table[i].busy &&
		    (!only_old || expired(&table[i], now))) {
			ending[n++] = table[i].s;
			memset(&table[i], 0, sizeof(table[i]));
		}
	pthread_mutex_unlock(&cvd.lock);
	for (i = 0; i < n; i++)
		cv_session_end(ending[i], why);
	return n;
}

void
cvd_session_expire(void)
{
	int n;

	if ((n = sweep(1, "expired")) > 0)
		cvd_log("%d session%s expired", n, n == 1 ? "" : "s");
}

void
cvd_session_end_all(void)
{
	int n;

	if ((n = sweep(0, "shutdown")) > 0)
		cvd_log("%d session%s ended at shutdown", n, n == 1 ? "" : "s");
}

int
cvd_session_count(void)
{
	int n = 0, i;

	pthread_mutex_lock(&cvd.lock);
	for (i = 0; i < CVD_SESSIONS_MAX; i++)
		n += table[i].s != NULL;
	pthread_mutex_unlock(&cvd.lock);
	return n;
}

/* ---- back-off per peer uid ---- */

#define BACKOFF_SLOTS    256
#define BACKOFF_FIRST_MS 250    /* the wait after the first failure */
#define BACKOFF_MAX_MS   60000L /* and the longest */

struct backoff {
	int64_t uid;
	int failures; /* 0: a free slot */
	int64_t until, last;
};

static struct backoff backoffs[BACKOFF_SLOTS];
static pthread_mutex_t backoff_lock = PTHREAD_MUTEX_INITIALIZER;

static struct backoff *
backoff_find(int64_t uid)
{
	int i;

	for (i = 0; i < BACKOFF_SLOTS; i++)
		if (backoffs[i].failures > 0 && backoffs[i].uid == uid)
			return &backoffs[i];
	return NULL;
}

int
cvd_backoff_check(int64_t uid)
{
	struct backoff *b;
	int r = 0;

	pthread_mutex_lock(&backoff_lock);
	if ((b = backoff_find(uid)) != NULL && cvd_now() < b->until)
		r = CV_ELOCKED;
	pthread_mutex_unlock(&backoff_lock);
	return r;
}

/* 1 when R says the peer got the account or the passphrase wrong. */
static int
is_failure(int r)
{
	return r == CV_EAUTH || r == CV_ELOCKED || r == CV_EDISABLED ||
	    r == CV_EDENIED;
}

void
cvd_backoff_note(int64_t uid, int r)
{
	struct backoff *b;
	int64_t wait;
	int i;

	pthread_mutex_lock(&backoff_lock);
	b = backoff_find(uid);
	if (r == 0 && b != NULL)
		memset(b, 0, sizeof(*b));
	if (r == 0 || !is_failure(r))
		goto out;
	if (b == NULL) {
		/* A free slot, else the one left alone longest: the table
		 * stays bounded whoever connects. */
		b = &backoffs[0];
		for (i = 0; i < BACKOFF_SLOTS; i++) {
			if (backoffs[i].failures == 0) {
				b = &backoffs[i];
				break;
			}
			if (backoffs[i].last < b->last)
				b = &backoffs[i];
		}
		memset(b, 0, sizeof(*b));
		b->uid = uid;
	}
	if (b->failures < 30)
		b->failures++;
	wait = (int64_t)BACKOFF_FIRST_MS << (b->failures - 1);
	if (wait > BACKOFF_MAX_MS)
		wait = BACKOFF_MAX_MS;
	b->last = cvd_now();
	b->until = b->last + wait;
out:
	pthread_mutex_unlock(&backoff_lock);
}
