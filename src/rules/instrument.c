/*
 * Assessment instruments and scoring.
 *
 * The definition is data and arrives from the repository, but it is parsed
 * as untrusted input all the same: every count, length and score is bounded,
 * and the bands must tile the whole range of possible totals exactly, so
 * that every valid answer set falls in exactly one band and scoring cannot
 * fail after the answers have been checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casevault.h"
#include "base/util.h"
#include "rules/instrument.h"

#define ITEMS_MAX   64
#define BANDS_MAX   16
#define SCORE_MAX   1000 /* an item's largest possible score */
#define VERSION_MAX 1000000
#define TEXT_MAX    512 /* labels, titles, sources */

struct item {
	int min;
	int max;
};

struct band {
	int min;
	int max;
	char key[CV_NAME_MAX + 1];
	char label_id[TEXT_MAX + 1];
};

struct cv_instrument {
	char name[CV_NAME_MAX + 1];
	unsigned version;
	int worse_higher;
	int total_min;
	int total_max;
	size_t nitems;
	struct item items[ITEMS_MAX];
	size_t nbands;
	struct band bands[BANDS_MAX];
};

static int
get_int(const json_t *obj, const char *key, long long lo, long long hi,
    long long *out)
{
	json_t *v = json_object_get(obj, key);
	long long x;

	if (!json_is_integer(v))
		return -1;
	x = json_integer_value(v);
	if (x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int
load_items(
    struct cv_instrument *in, const json_t *items, char *err, size_t errlen)
{
	static const char *const keys[] = {
	    "key", "label", "label_id", "min", "max"};
	char key[CV_NAME_MAX + 1];
	long long lo, hi;
	size_t i, j, n;
	json_t *it;

	if (!json_is_array(items) || (n = json_array_size(items)) == 0 ||
	    n > ITEMS_MAX) {
		cv_errf(err, errlen, "items: need an array of 1-%d items",
		    ITEMS_MAX);
		return CV_ESCHEMA;
	}
	for (i = 0; i < n; i++) {
		it = json_array_get(items, i);
		if (!json_is_object(it) ||
		    cv_json_only_keys(it, keys, CV_ARRAY_LEN(keys)) != 0) {
			cv_errf(
			    err, errlen, "item %zu: not an item object", i + 1);
			return CV_ESCHEMA;
		}
		if (cv_json_text(it, "key", 1, CV_NAME_MAX, key) != 0 ||
		    !cv_name_valid(key) ||
		    cv_json_text(it, "label", 0, TEXT_MAX, NULL) != 0 ||
		    cv_json_text(it, "label_id", 0, TEXT_MAX, NULL) != 0) {
			cv_errf(
			    err, errlen, "item %zu: bad key or label", i + 1);
			return CV_ESCHEMA;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(key,
			        json_string_value(json_object_get(
			            json_array_get(items, j), "key"))) == 0) {
				cv_errf(err, errlen, "item %zu: duplicate key",
				    i + 1);
				return CV_ESCHEMA;
			}
		}
		if (get_int(it, "min", 0, SCORE_MAX, &lo) != 0 ||
		    get_int(it, "max", 0, SCORE_MAX, &hi) != 0 || lo > hi) {
			cv_errf(err, errlen,
			    "item %zu: min and max must be integers "
			    "0-%d with min <= max",
			    i + 1, SCORE_MAX);
			return CV_ESCHEMA;
		}
		in->items[i].min = (int)lo;
		in->items[i].max = (int)hi;
		/* ITEMS_MAX * SCORE_MAX cannot overflow an int. */
		in->total_min += (int)lo;
		in->total_max += (int)hi;
	}
	in->nitems = n;
	return 0;
}

static int
load_bands(
    struct cv_instrument *in, const json_t *bands, char *err, size_t errlen)
{
	static const char *const keys[] = {
	    "key", "label", "label_id", "min", "max"};
	struct band *b;
	long long lo, hi;
	size_t i, j, n;
	json_t *it;

	if (!json_is_array(bands) || (n = json_array_size(bands)) == 0 ||
	    n > BANDS_MAX) {
		cv_errf(err, errlen, "bands: need an array of 1-%d bands",
		    BANDS_MAX);
		return CV_ESCHEMA;
	}
	for (i = 0; i < n; i++) {
		it = json_array_get(bands, i);
		b = &in->bands[i];
		if (!json_is_object(it) ||
		    cv_json_only_keys(it, keys, CV_ARRAY_LEN(keys)) != 0 ||
		    cv_json_text(it, "key", 1, CV_NAME_MAX, b->key) != 0 ||
		    !cv_name_valid(b->key) ||
		    cv_json_text(it, "label", 0, TEXT_MAX, NULL) != 0 ||
		    cv_json_text(it, "label_id", 1, TEXT_MAX, b->label_id) !=
		        0) {
			cv_errf(err, errlen,
			    "band %zu: needs a key and a label_id", i + 1);
			return CV_ESCHEMA;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(b->key, in->bands[j].key) == 0) {
				cv_errf(err, errlen, "band %zu: duplicate key",
				    i + 1);
				return CV_ESCHEMA;
			}
		}
		if (get_int(it, "min", 0, (long long)ITEMS_MAX * SCORE_MAX,
		        &lo) != 0 ||
		    get_int(it, "max", 0, (long long)ITEMS_MAX * SCORE_MAX,
		        &hi) != 0 ||
		    lo > hi) {
			cv_errf(err, errlen,
			    "band %zu: min and max must be integers with "
			    "min <= max",
			    i + 1);
			return CV_ESCHEMA;
		}
		b->min = (int)lo;
		b->max = (int)hi;
		/* Ascending, no gap, no overlap, covering every total. */
		if ((i == 0 && b->min != in->total_min) ||
		    (i > 0 && b->min != in->bands[i - 1].max + 1)) {
			cv_errf(err, errlen, "band %zu: must start at %d",
			    i + 1,
			    i == 0 ? in->total_min : in->bands[i - 1].max + 1);
			return CV_ESCHEMA;
		}
	}
	if (in->bands[n - 1].max != in->total_max) {
		cv_errf(err, errlen, "bands: must end at the largest total %d",
		    in->total_max);
		return CV_ESCHEMA;
	}
	in->nbands = n;
	return 0;
}

int
cv_instrument_load(const char *text, size_t len, struct cv_instrument **out,
    char *err, size_t errlen)
{
	static const char *const keys[] = {"instrument", "version", "title",
	    "title_id", "source", "worse", "items", "bands"};
	struct cv_instrument *in = NULL;
	json_t *j = NULL, *w;
	long long v;
	int r = CV_EINVAL;

	cv_errf(err, errlen, "%s", "");
	if (out != NULL)
		*out = NULL;
	if (text == NULL || out == NULL)
		goto out;
	if (len > CV_INSTRUMENT_TEXT_MAX) {
		cv_errf(err, errlen, "instrument: larger than %d bytes",
		    CV_INSTRUMENT_TEXT_MAX);
		r = CV_ETOOBIG;
		goto out;
	}
	if ((r = cv_json_parse_object(text, len, CV_INSTRUMENT_TEXT_MAX, &j)) !=
	    0) {
		cv_errf(err, errlen, "instrument: not a JSON object");
		goto out;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	r = CV_ESCHEMA;
	if (cv_json_only_keys(j, keys, CV_ARRAY_LEN(keys)) != 0) {
		cv_errf(err, errlen, "instrument: unknown field");
		goto out;
	}
	if (cv_json_text(j, "instrument", 1, CV_NAME_MAX, in->name) != 0 ||
	    !cv_name_valid(in->name)) {
		cv_errf(err, errlen, "instrument: needs a valid name");
		goto out;
	}
	if (get_int(j, "version", 1, VERSION_MAX, &v) != 0) {
		cv_errf(err, errlen, "version: must be an integer 1-%d",
		    VERSION_MAX);
		goto out;
	}
	in->version = (unsigned)v;
	if (cv_json_text(j, "title", 0, TEXT_MAX, NULL) != 0 ||
	    cv_json_text(j, "title_id", 0, TEXT_MAX, NULL) != 0 ||
	    cv_json_text(j, "source", 0, TEXT_MAX, NULL) != 0) {
		cv_errf(err, errlen,
		    "title, title_id, source: must be text "
		    "of 1-%d bytes",
		    TEXT_MAX);
		goto out;
	}
	w = json_object_get(j, "worse");
	if (json_is_string(w) && strcmp(json_string_value(w), "higher") == 0)
		in->worse_higher = 1;
	else if (json_is_string(w) &&
	    strcmp(json_string_value(w), "lower") == 0)
		in->worse_higher = 0;
	else {
		cv_errf(err, errlen, "worse: must be \"higher\" or \"lower\"");
		goto out;
	}
	if ((r = load_items(in, json_object_get(j, "items"), err, errlen)) != 0)
		goto out;
	if ((r = load_bands(in, json_object_get(j, "bands"), err, errlen)) != 0)
		goto out;
	*out = in;
	in = NULL; /* transferred */
	r = 0;
out:
	free(in);
	json_decref(j);
	return r;
}

void
cv_instrument_free(struct cv_instrument *in)
{
	free(in);
}

const char *
cv_instrument_name(const struct cv_instrument *in)
{
	return in->name;
}

unsigned
cv_instrument_version(const struct cv_instrument *in)
{
	return in->version;
}

static const struct band *
band_of(const struct cv_instrument *in, int total)
{
	size_t i;

	for (i = 0; i < in->nbands; i++)
		if (total >= in->bands[i].min && total <= in->bands[i].max)
			return &in->bands[i];
	return NULL;
}

int
cv_assess_score(const struct cv_instrument *in, const json_t *answers,
    json_t **out, char *err, size_t errlen)
{
	static const char *const keys[] = {"items"};
	const struct band *b;
	json_t *items, *v, *res = NULL, *copy = NULL;
	long long x;
	size_t i, n;
	int total = 0, r = CV_EINVAL;

	cv_errf(err, errlen, "%s", "");
	if (out != NULL)
		*out = NULL;
	if (in == NULL || answers == NULL || out == NULL)
		goto out;
	r = CV_ESCHEMA;
	if (!json_is_object(answers) ||
	    cv_json_only_keys(answers, keys, CV_ARRAY_LEN(keys)) != 0) {
		cv_errf(err, errlen, "answers: must be {\"items\": [...]}");
		goto out;
	}
	items = json_object_get(answers, "items");
	if (!json_is_array(items)) {
		cv_errf(err, errlen, "items: must be an array");
		goto out;
	}
	if ((n = json_array_size(items)) != in->nitems) {
		cv_errf(
		    err, errlen, "items: expected %zu, got %zu", in->nitems, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		v = json_array_get(items, i);
		if (!json_is_integer(v)) {
			cv_errf(
			    err, errlen, "item %zu: must be an integer", i + 1);
			goto out;
		}
		x = json_integer_value(v);
		if (x < in->items[i].min || x > in->items[i].max) {
			cv_errf(err, errlen, "item %zu: must be %d-%d", i + 1,
			    in->items[i].min, in->items[i].max);
			goto out;
		}
		total += (int)x;
	}
	/* The bands tile [total_min, total_max], checked at load. */
	if ((b = band_of(in, total)) == NULL) {
		r = CV_ECORRUPT;
		goto out;
	}
	r = CV_ENOMEM;
	if ((copy = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(copy,
		        json_integer(
		            json_integer_value(json_array_get(items, i)))) != 0)
			goto out;
	res = json_pack("{s:s, s:I, s:O, s:i, s:s, s:s}", "instrument",
	    in->name, "version", (json_int_t)in->version, "items", copy,
	    "total", total, "severity", b->key, "severity_id", b->label_id);
	if (res == NULL)
		goto out;
	*out = res;
	res = NULL; /* transferred */
	r = 0;
out:
	json_decref(copy);
	json_decref(res);
	return r;
}

/* The total of a scored assessment of IN, or -1. */
static int
scored_total(const struct cv_instrument *in, const json_t *a)
{
	json_t *name, *total;
	long long t;

	if (!json_is_object(a))
		return -1;
	name = json_object_get(a, "instrument");
	total = json_object_get(a, "total");
	if (!json_is_string(name) ||
	    strcmp(json_string_value(name), in->name) != 0 ||
	    !json_is_integer(total))
		return -1;
	t = json_integer_value(total);
	if (t < in->total_min || t > in->total_max)
		return -1;
	return (int)t;
}

int
cv_assess_worse(
    const struct cv_instrument *in, const json_t *older, const json_t *newer)
{
	int a, b;

	if (in == NULL)
		return CV_EINVAL;
	if ((a = scored_total(in, older)) < 0 ||
	    (b = scored_total(in, newer)) < 0)
		return CV_EINVAL;
	return in->worse_higher ? b > a : b < a;
}
