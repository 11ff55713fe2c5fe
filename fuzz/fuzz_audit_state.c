/*
 * The audit trail's readers of repository content an insider can edit:
 * the state blob (Merkle frontier, last write, time) and the first line of
 * a commit message. Anything may come in; nothing may crash, and a state
 * that parses must format back to a blob that parses the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/layout.h"
#include "base/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_merkle m, m2;
	uint64_t lw, t, lw2, t2, first, last;
	char *msg, *again;

	if (audit_state_parse((const char *)data, size, &m, &lw, &t) == 0) {
		again = audit_state_format(&m, lw, t);
		if (again == NULL ||
		    audit_state_parse(again, strlen(again), &m2, &lw2, &t2) !=
		        0 ||
		    m2.size != m.size || lw2 != lw || t2 != t)
			abort();
		free(again);
	}
	if ((msg = malloc(size + 1)) == NULL)
		return 0;
	memcpy(msg, data, size);
	msg[size] = '\0';
	if (audit_message_range(msg, &first, &last) == 0 && first > last)
		abort();
	free(msg);
	return 0;
}
