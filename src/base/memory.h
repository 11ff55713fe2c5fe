/*
 * Memory that is wiped when it is freed. Decrypted records, consents and
 * reasons are held as jansson values on their way to the caller; with
 * these allocation functions installed, every block jansson frees is
 * overwritten with zeros first, like the byte buffers the library wipes
 * itself.
 */
#ifndef CV_MEMORY_H
#define CV_MEMORY_H

#include <stddef.h>

/*
 * Install the wiping allocator for jansson (json_set_alloc_funcs).
 * cv_library_init calls it; calling it again is harmless.
 */
void cv_memory_init(void);

/*
 * malloc, and a free that first overwrites the whole block with zeros.
 * They mix with plain malloc and free in either direction.
 */
void *cv_wiped_malloc(size_t size);
void cv_wiped_free(void *p);

#endif
