/*
 * The verifier's quick reading of an event blob; see evscan.h. Anything
 * outside the subset it knows, or any field it does not like, is "not
 * sure": the full path then judges, with its own reasons.
 */
#include <string.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/evscan.h"
#include "base/util.h"

#define EVSCAN_DEPTH 16
#define INT_DIGITS   18 /* every such integer fits a json_int_t */
#define TIME_LEN     24

enum { T_OTHER, T_STRING, T_INT };

struct scan {
	const char *p, *end;
	/* The last value scanned: its kind, and where its text is. */
	int kind;
	const char *v;
	size_t vlen;
};

static int value(struct scan *s, int depth);

/* A string of printable ASCII, none to escape; its contents in v, vlen. */
static int
string(struct scan *s)
{
	const char *q;

	if (s->p >= s->end || *s->p != '"')
		return 0;
	for (q = ++s->p; q < s->end && *q != '"'; q++)
		if (*q < 0x20 || *q > 0x7e || *q == '\\')
			return 0;
	if (q >= s->end)
		return 0;
	s->v = s->p;
	s->vlen = (size_t)(q - s->p);
	s->kind = T_STRING;
	s->p = q + 1;
	return 1;
}

/* An integer as "%lld" prints it: no '+', no leading zero, no "-0". */
static int
integer(struct scan *s)
{
	const char *q = s->p;
	size_t n;

	if (q < s->end && *q == '-')
		q++;
	if (q >= s->end || *q < '0' || *q > '9' || (*q == '0' && q != s->p))
		return 0;
	if (*q == '0') {
		q++;
	} else {
		for (n = 0; q < s->end && *q >= '0' && *q <= '9'; q++)
			if (++n > INT_DIGITS)
				return 0;
	}
	s->v = s->p;
	s->vlen = (size_t)(q - s->p);
	s->kind = T_INT;
	s->p = q;
	return 1;
}

static int
word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return 0;
	s->p += n;
	s->kind = T_OTHER;
	return 1;
}

static int
array(struct scan *s, int depth)
{
	s->p++; /* '[' */
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		s->kind = T_OTHER;
		return 1;
	}
	for (;;) {
		if (!value(s, depth + 1) || s->p >= s->end)
			return 0;
		if (*s->p == ']')
			break;
		if (*s->p++ != ',')
			return 0;
	}
	s->p++;
	s->kind = T_OTHER;
	return 1;
}

/* Does key K (length KL) sort strictly after the previous key P (PL)?
 * JSON_SORT_KEYS orders by bytes, a prefix first. */
static int
after(const char *p, size_t pl, const char *k, size_t kl)
{
	int c = memcmp(p, k, pl < kl ? pl : kl);

	return c < 0 || (c == 0 && pl < kl);
}

/* The fields of the top-level object the verifier reads. */
struct fields {
	const char *seq, *time, *store_write;
	size_t seq_len, time_len, sw_len;
	int seq_kind, time_kind, sw_kind;
};

static void
note(struct scan *s, struct fields *f, const char *k, size_t kl,
    const char *vstart)
{
	/* A later duplicate cannot be: keys strictly increase. */
	if (kl == 3 && memcmp(k, "seq", 3) == 0) {
		f->seq = s->v;
		f->seq_len = s->vlen;
		f->seq_kind = s->kind;
	} else if (kl == 4 && memcmp(k, "time", 4) == 0) {
		f->time = s->v;
		f->time_len = s->vlen;
		f->time_kind = s->kind;
	} else if (kl == 11 && memcmp(k, "store_write", 11) == 0) {
		f->store_write = vstart;
		f->sw_len = (size_t)(s->p - vstart);
		f->sw_kind = s->kind;
	}
}

static int
object(struct scan *s, int depth, struct fields *f)
{
	const char *prev = NULL, *k, *vstart;
	size_t pl = 0, kl;

	s->p++; /* '{' */
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		s->kind = T_OTHER;
		return 1;
	}
	for (;;) {
		if (!string(s))
			return 0;
		k = s->v;
		kl = s->vlen;
		if (prev != NULL && !after(prev, pl, k, kl))
			return 0;
		prev = k;
		pl = kl;
		if (s->p >= s->end || *s->p++ != ':')
			return 0;
		vstart = s->p;
		if (!value(s, depth + 1))
			return 0;
		if (f != NULL)
			note(s, f, k, kl, vstart);
		if (s->p >= s->end)
			return 0;
		if (*s->p == '}')
			break;
		if (*s->p++ != ',')
			return 0;
	}
	s->p++;
	s->kind = T_OTHER;
	return 1;
}

static int
value(struct scan *s, int depth)
{
	if (depth > EVSCAN_DEPTH || s->p >= s->end)
		return 0;
	switch (*s->p) {
	case '{':
		return object(s, depth, NULL);
	case '[':
		return array(s, depth);
	case '"':
		return string(s);
	case 't':
		return word(s, "true");
	case 'f':
		return word(s, "false");
	case 'n':
		return word(s, "null");
	default:
		return integer(s);
	}
}

int
audit_event_scan(const char *buf, size_t len, uint64_t seq, uint64_t *time_ms,
    int *store_write)
{
	struct scan s = {buf, buf + len, T_OTHER, NULL, 0};
	struct fields f;
	char tbuf[TIME_LEN + 1];
	uint64_t v = 0;
	size_t i;

	memset(&f, 0, sizeof(f));
	if (len == 0 || len > CV_AUDIT_EVENT_MAX || *buf != '{' ||
	    !object(&s, 1, &f) || s.p != s.end)
		return 0;
	/* "seq": a non-negative integer equal to SEQ. */
	if (f.seq == NULL || f.seq_kind != T_INT || *f.seq == '-')
		return 0;
	for (i = 0; i < f.seq_len; i++)
		v = v * 10 + (uint64_t)(f.seq[i] - '0');
	if (v != seq)
		return 0;
	if (f.time == NULL || f.time_kind != T_STRING || f.time_len != TIME_LEN)
		return 0;
	memcpy(tbuf, f.time, TIME_LEN);
	tbuf[TIME_LEN] = '\0';
	if (cv_parse_time(tbuf, time_ms) != 0)
		return 0;
	if (f.store_write != NULL &&
	    (f.sw_kind != T_OTHER || f.sw_len != 4 ||
	        memcmp(f.store_write, "true", 4) != 0))
		return 0;
	*store_write = f.store_write != NULL;
	return 1;
}
