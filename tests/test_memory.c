/*
 * The wiping allocator: cv_library_init installs it for jansson, blocks
 * of every size round-trip, and it mixes with plain malloc and free in
 * both directions (checked under the sanitizers by make asan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "casevault.h"
#include "base/memory.h"

static void
installed_for_jansson(void **state)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;

	(void)state;
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(m, cv_wiped_malloc);
	assert_ptr_equal(f, cv_wiped_free);
}

static void
blocks_round_trip(void **state)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, 4096, 1 << 20};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = cv_wiped_malloc(sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, 0xA5, sizes[i]);
		cv_wiped_free(p);
		/* Either direction: plain malloc, wiping free; and back. */
		p = malloc(sizes[i] + 1);
		assert_non_null(p);
		memset(p, 0x5A, sizes[i] + 1);
		cv_wiped_free(p);
		free(cv_wiped_malloc(sizes[i]));
	}
	cv_wiped_free(NULL);
}

static void
json_values_use_it(void **state)
{
	json_t *o;
	char *text;

	(void)state;
	o = json_pack("{s:s, s:[i,i]}", "reason", "survivor in danger",
	    "scores", 12, 30);
	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	assert_string_equal(
	    text, "{\"reason\":\"survivor in danger\",\"scores\":[12,30]}");
	free(text);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(installed_for_jansson),
	    cmocka_unit_test(blocks_round_trip),
	    cmocka_unit_test(json_values_use_it),
	};

	if (cv_library_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
