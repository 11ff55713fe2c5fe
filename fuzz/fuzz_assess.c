/*
 * Arbitrary bytes as an instrument definition and as an answer set scored
 * by the shipped HAM-D (read from the repository root, where the fuzzers
 * run). The service flow has its own target, fuzz_flow.c.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "casevault.h"
#include "base/util.h"
#include "rules/instrument.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cv_instrument *hamd;

static void
load_hamd(void)
{
	char *buf, err[200];
	size_t len;

	if (cv_read_file("forms/instruments/hamd.json", CV_INSTRUMENT_TEXT_MAX,
	                 &buf, &len) != 0 ||
	    cv_instrument_load(buf, len, &hamd, err, sizeof(err)) != 0)
		abort();
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_instrument *in = NULL;
	json_t *answers = NULL, *a = NULL, *b = NULL;
	const char *text = (const char *)data;
	char err[200];

	if (hamd == NULL)
		load_hamd();

	if (cv_instrument_load(text, size, &in, err, sizeof(err)) == 0) {
		if (cv_instrument_name(in)[0] == '\0')
			abort();
		cv_instrument_free(in);
	}

	if (cv_json_parse_object(text, size, CV_ANSWERS_TEXT_MAX, &answers) !=
	    0)
		return 0;
	if (cv_assess_score(hamd, answers, &a, err, sizeof(err)) == 0) {
		/* A scored result must compare with itself: never worse. */
		b = json_deep_copy(a);
		if (cv_assess_worse(hamd, a, b) != 0)
			abort();
	}
	json_decref(a);
	json_decref(b);
	json_decref(answers);
	return 0;
}
