/*
 * The CBOR record decoder reads plaintext that only the vault wrote, but
 * after a decrypt that any bug upstream could feed: anything may come in,
 * nothing may crash, and what it accepts is canonical, so it encodes back
 * to exactly the bytes read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j;
	uint8_t *b;
	size_t n;

	if (cv_rec_decode(data, size, &j) != 0)
		return 0;
	if (cv_rec_encode(j, &b, &n) != 0 || n != size ||
	    memcmp(b, data, n) != 0)
		abort();
	free(b);
	json_decref(j);
	return 0;
}
