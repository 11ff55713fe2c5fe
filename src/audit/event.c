/*
 * An event's canonical text in two steps: its writer serialises it before
 * queueing, cut where "seq" and "time" go (struct req), so that the leader,
 * which alone knows both values, only copies bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/internal.h"
#include "base/util.h"

/* Byte order of object keys, as jansson sorts them for canonical JSON. */
static int
key_cmp(const char *k, size_t kl, const char *ref)
{
	size_t rl = strlen(ref), m = kl < rl ? kl : rl;
	int c = memcmp(k, ref, m);

	return c != 0 ? c : (kl > rl) - (kl < rl);
}

/* Append the members of canonical object text O (without its braces) to
 * the buffer at P, after a comma if SEP; returns the new end. */
static char *
members(char *p, const char *o, int sep)
{
	size_t n = strlen(o);

	if (n <= 2)
		return p;
	if (sep)
		*p++ = ',';
	memcpy(p, o + 1, n - 2);
	return p + n - 2;
}

/*
 * Serialise EVENT into Q in the writer's own thread: its keys split
 * around "seq" and "time" into three objects dumped canonically, joined
 * around the places of the two values (see struct req). The size is
 * checked with the widest values the leader can put there, so the leader
 * never has to refuse an event it has already numbered.
 */
int
audit_event_prepare(const json_t *event, unsigned flags, struct req *q)
{
	json_t *part[3] = {NULL, NULL, NULL};
	char *dump[3] = {NULL, NULL, NULL}, *p;
	const char *k;
	json_t *v;
	size_t kl, n;
	int i, r = CV_ENOMEM;

	q->text = NULL;
	if (!json_is_object(event) || (flags & ~CV_AUDIT_WRITE) != 0)
		return CV_EINVAL;
	for (i = 0; i < 3; i++)
		if ((part[i] = json_object()) == NULL)
			goto out;
	json_object_keylen_foreach((json_t *)event, k, kl, v)
	{
		int seq = key_cmp(k, kl, "seq"), tm = key_cmp(k, kl, "time");
		if (seq == 0 || tm == 0 || key_cmp(k, kl, "store_write") == 0) {
			r = CV_EINVAL;
			goto out;
		}
		i = seq < 0 ? 0 : tm < 0 ? 1 : 2;
		if (json_object_setn_nocheck(part[i], k, kl, v) != 0)
			goto out;
	}
	if ((flags & CV_AUDIT_WRITE) &&
	    json_object_set_new(part[1], "store_write", json_true()) != 0)
		goto out;
	for (i = 0; i < 3; i++)
		if ((dump[i] = cv_json_canonical(part[i])) == NULL)
			goto out;
	n = strlen(dump[0]) + strlen(dump[1]) + strlen(dump[2]) + 32;
	if ((q->text = malloc(n)) == NULL)
		goto out;
	p = q->text;
	*p++ = '{';
	p = members(p, dump[0], 0);
	if (p > q->text + 1)
		*p++ = ',';
	memcpy(p, "\"seq\":", 6);
	p += 6;
	q->pre = (size_t)(p - q->text);
	p = members(p, dump[1], 1);
	memcpy(p, ",\"time\":\"", 9);
	p += 9;
	q->mid = (size_t)(p - q->text) - q->pre;
	*p++ = '"';
	p = members(p, dump[2], 1);
	*p++ = '}';
	q->post = (size_t)(p - q->text) - q->pre - q->mid;
	r = 0;
	/* The widest seq has 9 digits; a time is always 24 characters. */
	if (q->pre + q->mid + q->post + 9 + 24 > CV_AUDIT_EVENT_MAX) {
		free(q->text);
		q->text = NULL;
		r = CV_ETOOBIG;
	}
out:
	for (i = 0; i < 3; i++) {
		free(dump[i]);
		json_decref(part[i]);
	}
	return r;
}

/* The event of Q with SEQ and TIME (24 characters) into BUF, which holds
 * CV_AUDIT_EVENT_MAX bytes; returns its length. */
size_t
audit_event_text(const struct req *q, uint64_t seq, const char *time, char *buf)
{
	size_t n = q->pre;

	memcpy(buf, q->text, q->pre);
	n += (size_t)sprintf(buf + n, "%" PRIu64, seq);
	memcpy(buf + n, q->text + q->pre, q->mid);
	n += q->mid;
	memcpy(buf + n, time, 24);
	n += 24;
	memcpy(buf + n, q->text + q->pre + q->mid, q->post);
	return n + q->post;
}
