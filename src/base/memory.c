/*
 * The block's size comes from the allocator itself (malloc_usable_size),
 * so these functions and plain malloc/free mix freely: a string jansson
 * made and the caller frees with free() is simply not wiped, and a value
 * made before cv_memory_init is wiped when this free releases it.
 */
#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "base/memory.h"

void *
cv_wiped_malloc(size_t size)
{
	return malloc(size);
}

void
cv_wiped_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void
cv_memory_init(void)
{
	json_set_alloc_funcs(cv_wiped_malloc, cv_wiped_free);
}
