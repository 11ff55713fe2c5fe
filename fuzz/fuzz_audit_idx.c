/*
 * Fuzz the pack index reader used when merging audit packs. Input: a
 * 4-byte big-endian index length, the index, then the pack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/packmerge.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_pack_ent *e;
	size_t ilen, n, i;

	if (size < 4)
		return 0;
	ilen = cv_get_be32(data);
	if (ilen > size - 4)
		return 0;
	if (audit_pack_entries(
	        data + 4, ilen, data + 4 + ilen, size - 4 - ilen, &e, &n) != 0)
		return 0;
	/* Every entry accepted lies inside the pack, before its trailer. */
	for (i = 0; i < n; i++)
		if (e[i].off < 12 || e[i].len == 0 ||
		    e[i].off + e[i].len > size - 4 - ilen - 20)
			__builtin_trap();
	free(e);
	return 0;
}
