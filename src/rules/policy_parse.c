/*
 * Role policies: the parser of policies/ROLE.policy and the set it fills:
 * adding a text (read by the caller), the hash and the files read back.
 * The language is in docs/policy.md. The names of roles and actions are in
 * policy_names.c, the verdict for one access in policy_decide.c and the lint
 * in policy_lint.c; the types they share are in policy_int.h.
 *
 * Invariants:
 *  - a set only ever holds fully parsed files: a text is parsed into a
 *    private struct and linked into the set only when every line is good;
 *  - rule ids are unique across the whole set, so a decision's rule names
 *    exactly one line of one file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "casevault.h"
#include "base/classes.h"
#include "rules/policy.h"
#include "rules/policy_int.h"
#include "base/util.h"

static const struct {
	const char *name;
	unsigned bit;
} cond_names[] = {
    {"team", COND_TEAM},
    {"consent", COND_CONSENT},
    {"request", COND_REQUEST},
    {"breakglass", COND_BREAKGLASS},
};

static void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->text);
	free(p->rules);
	free(p);
}

int
cv_policy_set_new(struct cv_policy_set **out)
{
	if (out == NULL)
		return CV_EINVAL;
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return CV_ENOMEM;
	return 0;
}

void
cv_policy_set_free(struct cv_policy_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		policy_free(set->files[i]);
	free(set);
}

/* Parser state for one text. */
struct parse {
	const struct cv_policy_set *set;
	struct policy *p;
	char *err;
	size_t errlen;
	int line;
};

static int perr(struct parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Always CV_EPOLICY, with "name:line: reason" in the caller's buffer. */
static int
perr(struct parse *ps, const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (ps->err != NULL && ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->p->name,
		    ps->line, reason);
	return CV_EPOLICY;
}

/* Tokens in messages are cut short: a message quotes syntax, not content. */
#define TOK "'%.32s'"

static int
id_valid(const char *s)
{
	/* Begins with a letter or a digit. */
	return ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) &&
	    cv_token_valid(s, CV_POLICY_ID_MAX - 1, "_.-", CV_TOKEN_LOWER);
}

static const struct rule *
find_rule(const struct policy *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	return NULL;
}

static int
parse_actions(struct parse *ps, char *tok, struct rule *r, int *classed)
{
	char *item, *save = NULL;
	int a, n = 0, with = 0, without = 0;

	if (tok[0] == ',' || tok[strlen(tok) - 1] == ',' ||
	    strstr(tok, ",,") != NULL)
		return perr(ps, "empty item in action list");
	for (item = strtok_r(tok, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if ((a = cv_action_parse(item)) < 0)
			return perr(ps, "unknown action " TOK, item);
		if (r->actions & (1u << a))
			return perr(ps, "duplicate action " TOK, item);
		r->actions |= 1u << a;
		if (cv_action_has_class(a))
			with = 1;
		else
			without = 1;
		n++;
	}
	if (with && without)
		return perr(ps, "rule mixes actions with and without classes");
	*classed = with;
	return 0;
}

static int
parse_classes(struct parse *ps, char *tok, struct rule *r)
{
	char *item, *save = NULL;
	int c;

	if (strcmp(tok, "*") == 0) {
		r->classes = CV_CLASS_ALL;
		return 0;
	}
	if (tok[0] == ',' || tok[strlen(tok) - 1] == ',' ||
	    strstr(tok, ",,") != NULL)
		return perr(ps, "empty item in class list");
	for (item = strtok_r(tok, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (strcmp(item, "*") == 0)
			return perr(ps, "'*' must stand alone");
		if ((c = cv_class_parse(item)) < 0)
			return perr(ps, "unknown class " TOK, item);
		if (r->classes & CV_CLASS_BIT(c))
			return perr(ps, "duplicate class " TOK, item);
		r->classes |= CV_CLASS_BIT(c);
	}
	return 0;
}

/* TOKS[0] is "when"; the rest is COND {"and" COND}. */
static int
parse_when(struct parse *ps, char **toks, int ntok, struct rule *r)
{
	size_t k;
	int i, istrue = 0;

	if (ntok < 2)
		return perr(ps, "'when' without a condition");
	for (i = 1; i < ntok; i++) {
		if (i % 2 == 0) {
			if (strcmp(toks[i], "and") != 0)
				return perr(
				    ps, "expected 'and', got " TOK, toks[i]);
			if (i == ntok - 1)
				return perr(ps, "'and' without a condition");
			continue;
		}
		if (strcmp(toks[i], "true") == 0) {
			istrue = 1;
			continue;
		}
		for (k = 0; k < CV_ARRAY_LEN(cond_names); k++)
			if (strcmp(toks[i], cond_names[k].name) == 0)
				break;
		if (k == CV_ARRAY_LEN(cond_names))
			return perr(ps, "unknown condition " TOK, toks[i]);
		if (r->conds & cond_names[k].bit)
			return perr(ps, "duplicate condition " TOK, toks[i]);
		r->conds |= cond_names[k].bit;
	}
	if (istrue && ntok != 2)
		return perr(ps, "'true' cannot be combined with conditions");
	return 0;
}

static int
parse_rule(struct parse *ps, char **toks, int ntok)
{
	struct policy *p = ps->p;
	const struct rule *dup;
	struct rule r;
	size_t i;
	int k = 3, classed = 0, rv;

	memset(&r, 0, sizeof(r));
	r.line = ps->line;
	if (ntok < 2 || strcmp(toks[1], "allow") == 0 ||
	    strcmp(toks[1], "deny") == 0)
		return perr(ps, "rule without an id");
	if (!id_valid(toks[1]) || strcmp(toks[1], DEFAULT_DENY) == 0)
		return perr(ps, "bad rule id " TOK, toks[1]);
	if (p->nrules >= CV_POLICY_RULES_MAX)
		return perr(ps, "more than %d rules", CV_POLICY_RULES_MAX);
	if ((dup = find_rule(p, toks[1])) != NULL)
		return perr(ps, "duplicate rule id " TOK " (line %d)", toks[1],
		    dup->line);
	for (i = 0; i < ps->set->n; i++)
		if (find_rule(ps->set->files[i], toks[1]) != NULL)
			return perr(ps, "duplicate rule id " TOK " (in %s)",
			    toks[1], ps->set->files[i]->name);
	strcpy(r.id, toks[1]);
	if (ntok < 3)
		return perr(ps, "rule without 'allow' or 'deny'");
	if (strcmp(toks[2], "allow") == 0)
		r.deny = 0;
	else if (strcmp(toks[2], "deny") == 0)
		r.deny = 1;
	else
		return perr(
		    ps, "expected 'allow' or 'deny', got " TOK, toks[2]);
	if (ntok < 4 || strcmp(toks[3], "when") == 0)
		return perr(ps, "rule without actions");
	if ((rv = parse_actions(ps, toks[k++], &r, &classed)) != 0)
		return rv;
	if (classed) {
		if (k >= ntok || strcmp(toks[k], "when") == 0)
			return perr(ps, "actions on data need classes or '*'");
		if ((rv = parse_classes(ps, toks[k++], &r)) != 0)
			return rv;
	} else if (k < ntok && strcmp(toks[k], "when") != 0)
		return perr(
		    ps, "these actions take no classes, got " TOK, toks[k]);
	if (k < ntok) {
		if (strcmp(toks[k], "when") != 0)
			return perr(ps, "expected 'when', got " TOK, toks[k]);
		if ((rv = parse_when(ps, toks + k, ntok - k, &r)) != 0)
			return rv;
	} else if (!r.deny)
		return perr(ps, "allow rule without 'when' (use 'when true')");
	p->rules[p->nrules++] = r;
	return 0;
}

static int
parse_header(struct parse *ps, char **toks, int ntok)
{
	char *end;
	unsigned long v;
	int role;

	if (ps->p->role >= 0)
		return perr(ps, "second 'policy' line");
	if (ntok != 4 || strcmp(toks[2], "version") != 0)
		return perr(ps, "expected 'policy ROLE version N'");
	if ((role = cv_role_parse(toks[1])) < 0)
		return perr(ps, "unknown role " TOK, toks[1]);
	if (toks[3][0] < '1' || toks[3][0] > '9' || strlen(toks[3]) > 9)
		return perr(ps, "bad version " TOK, toks[3]);
	v = strtoul(toks[3], &end, 10);
	if (*end != '\0')
		return perr(ps, "bad version " TOK, toks[3]);
	ps->p->role = role;
	ps->p->version = v;
	return 0;
}

/*
 * One line of at most CV_POLICY_LINE_MAX bytes, already checked for bad
 * bytes, split in place into tokens; '#' starts a comment.
 */
static int
parse_line(struct parse *ps, char *line)
{
	char *toks[CV_POLICY_LINE_MAX / 2 + 1], *s = line;
	int ntok = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			break;
		toks[ntok++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s == '\0')
			break;
		*s++ = '\0';
	}
	if (ntok == 0)
		return 0;
	if (strcmp(toks[0], "policy") == 0)
		return parse_header(ps, toks, ntok);
	if (strcmp(toks[0], "rule") == 0) {
		if (ps->p->role < 0)
			return perr(ps, "rule before the 'policy' line");
		return parse_rule(ps, toks, ntok);
	}
	return perr(ps, "expected 'policy' or 'rule', got " TOK, toks[0]);
}

static int
file_name_valid(const char *name)
{
	return cv_token_valid(name, CV_POLICY_NAME_MAX - 1, "_.-", 0);
}

static int
parse_text(struct parse *ps, const char *text, size_t len)
{
	char line[CV_POLICY_LINE_MAX + 1];
	size_t i, start = 0, n;
	int rv, comment;

	ps->line = 0;
	if (len > CV_POLICY_FILE_MAX)
		return perr(
		    ps, "text larger than %d bytes", CV_POLICY_FILE_MAX);
	while (start < len) {
		ps->line++;
		comment = 0;
		for (i = start; i < len && text[i] != '\n'; i++) {
			unsigned char c = (unsigned char)text[i];
			if (c == '#')
				comment = 1;
			if (c == '\0')
				return perr(ps, "NUL byte");
			if (c == '\r' && (i + 1 == len || text[i + 1] == '\n'))
				continue;
			/* Bytes above 0x7f only in comments (UTF-8 prose). */
			if ((c < 0x20 && c != '\t') || c == 0x7f ||
			    (c > 0x7f && !comment))
				return perr(ps, "invalid byte 0x%02x", c);
		}
		n = i - start;
		if (n > 0 && text[start + n - 1] == '\r')
			n--;
		if (n > CV_POLICY_LINE_MAX)
			return perr(ps, "line longer than %d bytes",
			    CV_POLICY_LINE_MAX);
		memcpy(line, text + start, n);
		line[n] = '\0';
		if ((rv = parse_line(ps, line)) != 0)
			return rv;
		start = i + 1;
	}
	if (ps->p->role < 0) {
		ps->line = 0;
		return perr(ps, "no 'policy ROLE version N' line");
	}
	return 0;
}

int
cv_policy_set_add(struct cv_policy_set *set, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct policy *p = NULL;
	struct rule *shrunk;
	struct parse ps;
	size_t i;
	int r = CV_ENOMEM;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (set == NULL || name == NULL || (text == NULL && len > 0))
		return CV_EINVAL;
	if (!file_name_valid(name)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "bad policy file name");
		return CV_EINVAL;
	}
	for (i = 0; i < set->n; i++) {
		if (strcmp(set->files[i]->name, name) == 0) {
			if (err != NULL && errlen > 0)
				snprintf(
				    err, errlen, "%s: already loaded", name);
			return CV_EINVAL;
		}
	}
	if (set->n >= CV_POLICY_FILES_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: more than %d policy files",
			    name, CV_POLICY_FILES_MAX);
		return CV_ETOOBIG;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strdup(name)) == NULL)
		goto out;
	p->role = -1;
	memset(&ps, 0, sizeof(ps));
	ps.set = set;
	ps.p = p;
	ps.err = err;
	ps.errlen = errlen;
	if (len <= CV_POLICY_FILE_MAX) {
		if ((p->rules = calloc(
		         CV_POLICY_RULES_MAX, sizeof(*p->rules))) == NULL ||
		    (p->text = malloc(len + 1)) == NULL)
			goto out;
		if (len > 0)
			memcpy(p->text, text, len);
		p->text[len] = '\0';
		p->len = len;
	}
	if ((r = parse_text(&ps, text, len)) != 0)
		goto out;
	if (p->nrules == 0) {
		free(p->rules);
		p->rules = NULL;
	} else if ((shrunk = realloc(
	                p->rules, p->nrules * sizeof(*p->rules))) != NULL)
		p->rules = shrunk;
	/* Keep the files sorted by name: the hash and iteration rely on it. */
	for (i = set->n; i > 0 && strcmp(set->files[i - 1]->name, name) > 0;
	     i--)
		set->files[i] = set->files[i - 1];
	set->files[i] = p; /* transferred */
	set->n++;
	p = NULL;
	r = 0;
out:
	if (r == CV_ENOMEM && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: out of memory", name);
	policy_free(p);
	return r;
}

void
cv_policy_set_hash(const struct cv_policy_set *set, uint8_t out[32])
{
	static const char tag[] = "casevault-policy-set-v1";
	crypto_hash_sha256_state st;
	uint8_t be[8];
	size_t i;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)tag, sizeof(tag));
	for (i = 0; set != NULL && i < set->n; i++) {
		const struct policy *p = set->files[i];
		size_t nl = strlen(p->name);

		cv_put_be32(be, (uint32_t)nl);
		crypto_hash_sha256_update(&st, be, 4);
		crypto_hash_sha256_update(&st, (const uint8_t *)p->name, nl);
		cv_put_be64(be, (uint64_t)p->len);
		crypto_hash_sha256_update(&st, be, 8);
		crypto_hash_sha256_update(
		    &st, (const uint8_t *)p->text, p->len);
	}
	crypto_hash_sha256_final(&st, out);
}

size_t
cv_policy_set_count(const struct cv_policy_set *set)
{
	return set == NULL ? 0 : set->n;
}

int
cv_policy_set_file(const struct cv_policy_set *set, size_t i, const char **name,
    const char **text, size_t *len)
{
	if (set == NULL || i >= set->n)
		return CV_ENOTFOUND;
	*name = set->files[i]->name;
	*text = set->files[i]->text;
	*len = set->files[i]->len;
	return 0;
}
