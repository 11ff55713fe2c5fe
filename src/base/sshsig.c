/*
 * SSHSIG (OpenSSH PROTOCOL.sshsig), Ed25519 only.
 *
 * The signature blob is
 *	byte[6] "SSHSIG", uint32 1, string publickey, string namespace,
 *	string reserved, string hash_algorithm, string signature
 * and what Ed25519 signs is
 *	byte[6] "SSHSIG", string namespace, string reserved,
 *	string hash_algorithm, string H(message)
 * where string is a uint32 big-endian length and the bytes. The armor is
 * base64 of the blob between BEGIN/END lines, wrapped at 70 columns as
 * ssh-keygen does.
 *
 * The verifier reads untrusted input: every length is checked against what
 * is left before it is used, and anything it does not expect is refused
 * rather than skipped.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "casevault.h"
#include "base/sshsig.h"
#include "base/util.h"

#define MAGIC          "SSHSIG"
#define MAGIC_LEN      6
#define KEYTYPE        "ssh-ed25519"
#define ARMOR_BEGIN    "-----BEGIN SSH SIGNATURE-----"
#define ARMOR_END      "-----END SSH SIGNATURE-----"
#define ARMOR_COLS     70
#define ARMOR_LINE_MAX 76
#define NS_MAX         64
#define BLOB_MAX       ((CV_SSHSIG_ARMOR_MAX / 4) * 3)

/* Encoded key blob: string "ssh-ed25519", string pk. */
#define KEYBLOB_LEN (4 + 11 + 4 + 32)
/* Encoded signature: string "ssh-ed25519", string sig. */
#define SIGBLOB_LEN (4 + 11 + 4 + 64)

struct wbuf {
	uint8_t *p;
	size_t len, cap;
};

struct rbuf {
	const uint8_t *p;
	size_t len;
};

static void
put_bytes(struct wbuf *w, const void *p, size_t n)
{
	/* Callers size the buffer exactly; overflow would be a bug here. */
	if (w->len + n > w->cap)
		abort();
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void
put_string(struct wbuf *w, const void *p, size_t n)
{
	uint8_t l[4];

	cv_put_be32(l, (uint32_t)n);
	put_bytes(w, l, 4);
	put_bytes(w, p, n);
}

static void
put_keyblob(struct wbuf *w, const uint8_t pk[32])
{
	put_string(w, KEYTYPE, strlen(KEYTYPE));
	put_string(w, pk, 32);
}

static int
get_u32(struct rbuf *r, uint32_t *v)
{
	if (r->len < 4)
		return CV_ECORRUPT;
	*v = cv_get_be32(r->p);
	r->p += 4;
	r->len -= 4;
	return 0;
}

static int
get_string(struct rbuf *r, const uint8_t **p, size_t *n)
{
	uint32_t l;

	if (get_u32(r, &l) != 0 || l > r->len)
		return CV_ECORRUPT;
	*p = r->p;
	*n = l;
	r->p += l;
	r->len -= l;
	return 0;
}

static int
str_eq(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* The bytes Ed25519 signs: the preamble, NS, reserved, hash name, H(msg). */
static int
signed_data(uint8_t *out, size_t cap, size_t *outlen, const char *ns,
    const char *hashalg, const void *msg, size_t len)
{
	uint8_t h[crypto_hash_sha512_BYTES];
	struct wbuf w = {out, 0, cap};
	size_t hlen;

	if (strcmp(hashalg, "sha512") == 0) {
		crypto_hash_sha512(h, msg, len);
		hlen = crypto_hash_sha512_BYTES;
	} else if (strcmp(hashalg, "sha256") == 0) {
		crypto_hash_sha256(h, msg, len);
		hlen = crypto_hash_sha256_BYTES;
	} else
		return CV_EVERIFY;
	if (MAGIC_LEN + 4 * 4 + strlen(ns) + strlen(hashalg) + hlen > cap)
		return CV_EINVAL;
	put_bytes(&w, MAGIC, MAGIC_LEN);
	put_string(&w, ns, strlen(ns));
	put_string(&w, "", 0);
	put_string(&w, hashalg, strlen(hashalg));
	put_string(&w, h, hlen);
	*outlen = w.len;
	return 0;
}

static int
ns_valid(const char *ns)
{
	size_t n = strlen(ns);

	return n > 0 && n <= NS_MAX;
}

int
cv_sshsig_sign(const uint8_t sk[static 64], const char *ns, const void *msg,
    size_t len, char **armored, size_t *armored_len)
{
	uint8_t tosign[MAGIC_LEN + 16 + NS_MAX + 6 + crypto_hash_sha512_BYTES];
	uint8_t blob[MAGIC_LEN + 4 + 4 + KEYBLOB_LEN + 4 + NS_MAX + 4 + 4 + 6 +
	    4 + SIGBLOB_LEN];
	uint8_t sig[crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(
	    sizeof(blob), sodium_base64_VARIANT_ORIGINAL)];
	struct wbuf w = {blob, 0, sizeof(blob)}, sw;
	uint8_t sigblob[SIGBLOB_LEN];
	size_t tslen, b64len, i, n, off;
	char *out = NULL;
	uint8_t ver[4];
	int r = CV_EINVAL;

	*armored = NULL;
	if (!ns_valid(ns))
		goto out;
	if ((r = signed_data(
	         tosign, sizeof(tosign), &tslen, ns, "sha512", msg, len)) != 0)
		goto out;
	if (crypto_sign_detached(sig, NULL, tosign, tslen, sk) != 0) {
		r = CV_ECRYPTO;
		goto out;
	}
	sw = (struct wbuf){sigblob, 0, sizeof(sigblob)};
	put_string(&sw, KEYTYPE, strlen(KEYTYPE));
	put_string(&sw, sig, sizeof(sig));

	put_bytes(&w, MAGIC, MAGIC_LEN);
	cv_put_be32(ver, 1);
	put_bytes(&w, ver, 4);
	{
		uint8_t kb[KEYBLOB_LEN];
		struct wbuf kw = {kb, 0, sizeof(kb)};

		/* The public half of a libsodium secret key is its tail. */
		put_keyblob(&kw, sk + 32);
		put_string(&w, kb, kw.len);
	}
	put_string(&w, ns, strlen(ns));
	put_string(&w, "", 0);
	put_string(&w, "sha512", 6);
	put_string(&w, sigblob, sw.len);

	sodium_bin2base64(
	    b64, sizeof(b64), blob, w.len, sodium_base64_VARIANT_ORIGINAL);
	b64len = strlen(b64);
	n = sizeof(ARMOR_BEGIN) + b64len + b64len / ARMOR_COLS + 1 +
	    sizeof(ARMOR_END) + 1;
	if ((out = malloc(n)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	off = 0;
	memcpy(out, ARMOR_BEGIN "\n", sizeof(ARMOR_BEGIN));
	off = sizeof(ARMOR_BEGIN);
	for (i = 0; i < b64len; i += ARMOR_COLS) {
		size_t l = b64len - i < ARMOR_COLS ? b64len - i : ARMOR_COLS;

		memcpy(out + off, b64 + i, l);
		off += l;
		out[off++] = '\n';
	}
	memcpy(out + off, ARMOR_END "\n", sizeof(ARMOR_END) + 1);
	off += sizeof(ARMOR_END);
	*armored = out;
	if (armored_len != NULL)
		*armored_len = off;
	out = NULL;
	r = 0;
out:
	sodium_memzero(tosign, sizeof(tosign));
	free(out);
	return r;
}

/*
 * Strip the armor: exact BEGIN and END lines, base64 lines of at most
 * ARMOR_LINE_MAX characters in between, LF line ends, nothing else.
 */
static int
dearmor(const char *a, size_t len, uint8_t *blob, size_t cap, size_t *blen)
{
	char b64[CV_SSHSIG_ARMOR_MAX];
	size_t bl = sizeof(ARMOR_BEGIN) - 1, el = sizeof(ARMOR_END) - 1;
	size_t i, n = 0, col;
	const char *end;

	if (len > 0 && a[len - 1] == '\n')
		len--;
	if (len < bl + 1 + el || memcmp(a, ARMOR_BEGIN, bl) != 0 ||
	    a[bl] != '\n' || memcmp(a + len - el, ARMOR_END, el) != 0 ||
	    a[len - el - 1] != '\n')
		return CV_ECORRUPT;
	end = a + len - el - 1;
	col = 0;
	for (i = bl + 1; a + i < end; i++) {
		char c = a[i];

		if (c == '\n') {
			if (col == 0)
				return CV_ECORRUPT;
			col = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		        c == '='))
			return CV_ECORRUPT;
		if (++col > ARMOR_LINE_MAX || n + 1 >= sizeof(b64))
			return CV_ECORRUPT;
		b64[n++] = c;
	}
	if (n == 0)
		return CV_ECORRUPT;
	b64[n] = '\0';
	if (sodium_base642bin(blob, cap, b64, n, NULL, blen, NULL,
	        sodium_base64_VARIANT_ORIGINAL) != 0)
		return CV_ECORRUPT;
	return 0;
}

/* Parse string "ssh-ed25519", string of WANT bytes, and nothing more. */
static int
get_ed25519(const uint8_t *p, size_t n, size_t want, const uint8_t **val)
{
	struct rbuf r = {p, n};
	const uint8_t *t, *v;
	size_t tl, vl;

	if (get_string(&r, &t, &tl) != 0 || get_string(&r, &v, &vl) != 0 ||
	    r.len != 0)
		return CV_ECORRUPT;
	if (!str_eq(t, tl, KEYTYPE) || vl != want)
		return CV_EVERIFY;
	*val = v;
	return 0;
}

int
cv_sshsig_verify(const char *armor, size_t len, const uint8_t pk[static 32],
    const char *ns, const void *msg, size_t msglen)
{
	uint8_t blob[BLOB_MAX];
	uint8_t tosign[MAGIC_LEN + 16 + NS_MAX + 6 + crypto_hash_sha512_BYTES];
	const uint8_t *key, *sns, *res, *halg, *sig, *kpk, *s64;
	size_t blen, keyl, snsl, resl, halgl, sigl, tslen;
	char hname[8];
	struct rbuf r;
	uint32_t ver;
	int e;

	if (len > CV_SSHSIG_ARMOR_MAX)
		return CV_ETOOBIG;
	if (!ns_valid(ns))
		return CV_EINVAL;
	if ((e = dearmor(armor, len, blob, sizeof(blob), &blen)) != 0)
		return e;
	r = (struct rbuf){blob, blen};
	if (r.len < MAGIC_LEN || memcmp(r.p, MAGIC, MAGIC_LEN) != 0)
		return CV_ECORRUPT;
	r.p += MAGIC_LEN;
	r.len -= MAGIC_LEN;
	if (get_u32(&r, &ver) != 0)
		return CV_ECORRUPT;
	if (ver != 1)
		return CV_EVERSION;
	if (get_string(&r, &key, &keyl) != 0 ||
	    get_string(&r, &sns, &snsl) != 0 ||
	    get_string(&r, &res, &resl) != 0 ||
	    get_string(&r, &halg, &halgl) != 0 ||
	    get_string(&r, &sig, &sigl) != 0 || r.len != 0)
		return CV_ECORRUPT;
	if ((e = get_ed25519(key, keyl, 32, &kpk)) != 0)
		return e;
	if ((e = get_ed25519(sig, sigl, 64, &s64)) != 0)
		return e;
	/* Public values: an ordinary comparison leaks nothing. */
	if (memcmp(kpk, pk, 32) != 0)
		return CV_EVERIFY;
	if (!str_eq(sns, snsl, ns))
		return CV_EVERIFY;
	if (resl != 0)
		return CV_ECORRUPT;
	if (!str_eq(halg, halgl, "sha512") && !str_eq(halg, halgl, "sha256"))
		return CV_EVERIFY;
	memcpy(hname, halg, halgl);
	hname[halgl] = '\0';
	if ((e = signed_data(
	         tosign, sizeof(tosign), &tslen, ns, hname, msg, msglen)) != 0)
		return e;
	if (crypto_sign_verify_detached(s64, tosign, tslen, pk) != 0)
		return CV_EVERIFY;
	return 0;
}

static int
comment_valid(const char *c)
{
	size_t i, n = strlen(c);

	if (n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] <= ' ' || c[i] == 0x7f)
			return 0;
	return 1;
}

int
cv_sshsig_pubkey_line(
    const uint8_t pk[static 32], const char *comment, char *buf, size_t size)
{
	uint8_t kb[KEYBLOB_LEN];
	struct wbuf w = {kb, 0, sizeof(kb)};
	char b64[sodium_base64_ENCODED_LEN(
	    KEYBLOB_LEN, sodium_base64_VARIANT_ORIGINAL)];

	if (comment != NULL && !comment_valid(comment))
		return CV_EINVAL;
	put_keyblob(&w, pk);
	sodium_bin2base64(
	    b64, sizeof(b64), kb, w.len, sodium_base64_VARIANT_ORIGINAL);
	if (comment == NULL || *comment == '\0')
		return cv_path(buf, size, "%s %s", KEYTYPE, b64);
	return cv_path(buf, size, "%s %s %s", KEYTYPE, b64, comment);
}

int
cv_sshsig_pubkey_parse(const char *line, size_t len, uint8_t pk[static 32])
{
	uint8_t kb[KEYBLOB_LEN + 3];
	const uint8_t *v;
	const char *b, *e;
	size_t kl, tl = strlen(KEYTYPE);

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > CV_SSHSIG_PUBLINE_MAX)
		return CV_ETOOBIG;
	if (len < tl + 2 || memcmp(line, KEYTYPE, tl) != 0 || line[tl] != ' ')
		return CV_ECORRUPT;
	b = line + tl + 1;
	for (e = b; e < line + len && *e != ' '; e++)
		;
	if (sodium_base642bin(kb, sizeof(kb), b, (size_t)(e - b), NULL, &kl,
	        NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return CV_ECORRUPT;
	if (get_ed25519(kb, kl, 32, &v) != 0)
		return CV_ECORRUPT;
	memcpy(pk, v, 32);
	return 0;
}

#define ALLOWED_LINE_MAX 1024

/* Does the comma-separated LIST (LEN bytes) name NS or "*"? */
static int
list_has(const char *list, size_t len, const char *ns)
{
	const char *p = list, *end = list + len, *c;

	for (;;) {
		for (c = p; c < end && *c != ','; c++)
			;
		if (str_eq((const uint8_t *)p, (size_t)(c - p), ns) ||
		    str_eq((const uint8_t *)p, (size_t)(c - p), "*"))
			return 1;
		if (c == end)
			return 0;
		p = c + 1;
	}
}

/*
 * The options field: comma-separated, values in double quotes may hold
 * commas and spaces. Only namespaces="..." is honoured; any other option
 * would narrow or change what the key may sign, so its line is skipped.
 */
static int
options_allow(const char *o, size_t len, const char *ns)
{
	static const char key[] = "namespaces=\"";
	const char *p = o, *end = o + len, *q;
	int seen = 0, allowed = 0;

	while (p < end) {
		if ((size_t)(end - p) > sizeof(key) - 1 &&
		    strncasecmp(p, key, sizeof(key) - 1) == 0) {
			p += sizeof(key) - 1;
			if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
				return CV_ECORRUPT;
			seen = 1;
			allowed |= list_has(p, (size_t)(q - p), ns);
			p = q + 1;
		} else {
			return CV_ENOTFOUND;
		}
		if (p < end && *p++ != ',')
			return CV_ECORRUPT;
	}
	return !seen || allowed ? 0 : CV_ENOTFOUND;
}

int
cv_sshsig_allowed_parse(
    const char *line, size_t len, const char *ns, uint8_t pk[static 32])
{
	const char *p = line, *end, *f;
	size_t tl = strlen(KEYTYPE);
	int inq = 0, e;

	if (ns == NULL || *ns == '\0')
		return CV_EINVAL;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > ALLOWED_LINE_MAX)
		return CV_ETOOBIG;
	end = line + len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return CV_ENOTFOUND;
	/* Principals: one field, which may be quoted. */
	for (; p < end && (inq || (*p != ' ' && *p != '\t')); p++)
		if (*p == '"')
			inq = !inq;
	if (inq || p == end)
		return CV_ECORRUPT;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	/* Options, when the next field is not a key type. */
	if ((size_t)(end - p) <= tl || memcmp(p, KEYTYPE, tl) != 0 ||
	    p[tl] != ' ') {
		for (f = p; p < end && (inq || (*p != ' ' && *p != '\t')); p++)
			if (*p == '"')
				inq = !inq;
		if (inq)
			return CV_ECORRUPT;
		if ((e = options_allow(f, (size_t)(p - f), ns)) != 0)
			return e;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	if ((size_t)(end - p) <= tl || memcmp(p, KEYTYPE, tl) != 0 ||
	    p[tl] != ' ')
		return p == end ? CV_ECORRUPT : CV_ENOTFOUND;
	if ((size_t)(end - p) > CV_SSHSIG_PUBLINE_MAX)
		return CV_ECORRUPT;
	return cv_sshsig_pubkey_parse(p, (size_t)(end - p), pk) == 0
	    ? 0
	    : CV_ECORRUPT;
}
