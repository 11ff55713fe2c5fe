/*
 * Fuzz target for the dispatcher's check of a request. The input is JSON
 * text, as a client would send in a frame; cv_dispatch_check reads it
 * against the command table without a vault or a session, which is all
 * cv_dispatch does before a handler runs.
 *
 * An oracle as well as a crash finder. A request the check accepts must
 * fit the table, checked here again independently (exactly cmd and args,
 * a known command, only its arguments, each of its type and bounds,
 * every required one present); written out and read back it must be
 * accepted as the same command; and it must be refused once a required
 * argument is taken out or an unknown one put in. A refusal must come
 * with a detail that repeats no string value of the request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/dispatch.h"

#define INPUT_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_dispatch: %s\n", what);
	abort();
}

static const struct cv_argspec *
spec(const struct cv_command *k, const char *name)
{
	const struct cv_argspec *a;

	for (a = k->args; a < k->args + CV_ARGS_MAX && a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* 1 when V is a string of MIN..MAX bytes; NUL allowed when NUL_OK. */
static int
string_in(const json_t *v, json_int_t min, json_int_t max, int nul_ok)
{
	json_int_t n = (json_int_t)json_string_length(v);

	return json_is_string(v) && n >= min && n <= max &&
	       (nul_ok || memchr(json_string_value(v), '\0', (size_t)n) == NULL);
}

/* The table's rules, checked again on a request the check accepted. */
static void
check_accepted(const json_t *req, const struct cv_command *k)
{
	const json_t *args = json_object_get(req, "args"), *v, *x;
	const struct cv_argspec *a;
	const char *name;
	size_t i;

	if (k == NULL || json_object_size(req) != 2 || !json_is_object(args) ||
	    strcmp(json_string_value(json_object_get(req, "cmd")), k->name) !=
	        0)
		fail("accepted without being a request of its command");
	json_object_foreach ((json_t *)args, name, v) {
		if ((a = spec(k, name)) == NULL)
			fail("accepted an argument the command does not take");
		switch (a->type) {
		case CV_ARG_STRING:
		case CV_ARG_SECRET:
			if (!string_in(v, a->min, a->max, a->type == CV_ARG_SECRET))
				fail("accepted a string out of its bounds");
			break;
		case CV_ARG_INTEGER:
			if (!json_is_integer(v) ||
			    json_integer_value(v) < a->min ||
			    json_integer_value(v) > a->max)
				fail("accepted an integer out of its range");
			break;
		case CV_ARG_BOOLEAN:
			if (!json_is_boolean(v))
				fail("accepted a boolean that is not one");
			break;
		case CV_ARG_OBJECT:
			if (!json_is_object(v))
				fail("accepted an object that is not one");
			break;
		case CV_ARG_NAMES:
			if (!json_is_array(v) ||
			    (json_int_t)json_array_size(v) > a->max)
				fail("accepted a list out of its bounds");
			json_array_foreach (v, i, x)
				if (!string_in(x, 0, 256, 0))
					fail("accepted a list with a bad name");
			break;
		}
	}
	for (a = k->args; a < k->args + CV_ARGS_MAX && a->name != NULL; a++)
		if (a->required && json_object_get(args, a->name) == NULL)
			fail("accepted without a required argument");
}

/* Written out and read back, an accepted request is the same command. */
static void
check_round_trip(const json_t *req, const struct cv_command *k)
{
	const struct cv_command *k2;
	json_t *again;
	char *text;

	if ((text = json_dumps(req, JSON_COMPACT)) == NULL)
		return; /* out of memory */
	again = json_loads(text, 0, NULL);
	free(text);
	if (again == NULL)
		fail("an accepted request does not read back");
	if (cv_dispatch_check(again, &k2) != 0 || k2 != k)
		fail("an accepted request read back is another");
	json_decref(again);
}

/* Without a required argument, or with one more, it is refused. */
static void
check_mutants(const json_t *req, const struct cv_command *k)
{
	const struct cv_argspec *a;
	const struct cv_command *k2;
	json_t *m, *args;

	for (a = k->args; a < k->args + CV_ARGS_MAX && a->name != NULL; a++) {
		if (!a->required)
			continue;
		if ((m = json_deep_copy(req)) == NULL)
			return;
		json_object_del(json_object_get(m, "args"), a->name);
		if (cv_dispatch_check(m, &k2) != CV_EPROTO || k2 != NULL)
			fail("accepted without a required argument");
		json_decref(m);
	}
	if ((m = json_deep_copy(req)) == NULL)
		return;
	args = json_object_get(m, "args");
	json_object_set_new(args, "zz_not_an_argument", json_true());
	if (cv_dispatch_check(m, &k2) != CV_EPROTO)
		fail("accepted an argument that is in no command");
	json_decref(m);
}

/*
 * 1 when S (LEN bytes) holds a byte that no fixed text of a detail holds:
 * outside printable ASCII, or one of the marks below. Such a value in a
 * detail can only have come from the request.
 */
static int
foreign(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ||
		    strchr("@#$%&*!?=+~^|<>{}\"'\\", s[i]) != NULL)
			return 1;
	return 0;
}

/*
 * 1 when a string value of J (at any depth), 8 bytes or more and with a
 * foreign byte, is in D.
 */
static int
echoes(const json_t *j, const char *d)
{
	const char *key;
	const json_t *v;
	size_t i;

	if (json_is_string(j))
		return json_string_length(j) >= 8 &&
		       foreign(json_string_value(j), json_string_length(j)) &&
		       strstr(d, json_string_value(j)) != NULL;
	if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if (echoes(v, d))
				return 1;
	}
	if (json_is_object(j)) {
		json_object_foreach ((json_t *)j, key, v)
			if (echoes(v, d))
				return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cv_command *k = (const struct cv_command *)1;
	json_t *req;
	int r;

	if (size > INPUT_MAX)
		return 0;
	/* As a frame's reader would: any JSON value, NUL escapes allowed. */
	req = json_loadb((const char *)data, size,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
	if (req == NULL)
		return 0;
	r = cv_dispatch_check(req, &k);
	if (r == 0) {
		check_accepted(req, k);
		check_round_trip(req, k);
		check_mutants(req, k);
	} else if (r != CV_EPROTO) {
		fail("a refusal that is not CV_EPROTO");
	} else if (k != NULL || cv_error_detail()[0] == '\0') {
		fail("a refusal without its detail");
	} else if (echoes(req, cv_error_detail())) {
		fail("a detail that repeats a value of the request");
	}
	json_decref(req);
	return 0;
}
