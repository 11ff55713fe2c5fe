/* Small helpers shared by every module: byte order, time, bounded file I/O. */
#ifndef CV_UTIL_H
#define CV_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline void
cv_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
cv_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void
cv_put_be64(uint8_t *p, uint64_t v)
{
	cv_put_be32(p, (uint32_t)(v >> 32));
	cv_put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t
cv_get_be64(const uint8_t *p)
{
	return (uint64_t)cv_get_be32(p) << 32 | cv_get_be32(p + 4);
}

/* Milliseconds since the Unix epoch, UTC, as the system clock has it
 * (plus the offset below). */
uint64_t cv_now_ms(void);

/*
 * For tests and benchmarks only: move the clock cv_now_ms reads by MS
 * (negative: back), as an administrator setting the system clock would.
 * 0 restores it. Not in the public header, and no environment variable
 * or option reaches it: the vault never takes its time from a caller.
 */
void cv_clock_set_offset_ms(int64_t ms);

/* Format MS as "YYYY-MM-DDTHH:MM:SS.mmmZ" into BUF (at least 25 bytes). */
void cv_format_time(uint64_t ms, char buf[static 25]);

/* The UTC date of MS as "YYYY-MM-DD" into BUF (at least 11 bytes). */
void cv_format_date(uint64_t ms, char buf[static 11]);

/*
 * Parse "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS[.mmm]]Z" as UTC into *ms.
 * Returns 0 or CV_EINVAL.
 */
int cv_parse_time(const char *s, uint64_t *ms);

/*
 * Read at most MAX bytes of PATH ("-" is standard input) into a new
 * NUL-terminated buffer owned by the caller. CV_ETOOBIG when the file is
 * larger than MAX, CV_EIO when it cannot be read.
 */
int cv_read_file(const char *path, size_t max, char **buf, size_t *len);

/*
 * cv_read_file for a vault's own files, never for user input: PATH must be
 * a regular file and is not followed if it is a symbolic link ("-" is not
 * standard input). CV_EUNSAFE for a link or anything but a regular file.
 */
int cv_read_file_nofollow(
    const char *path, size_t max, char **buf, size_t *len);

/*
 * Write LEN bytes to PATH, created with O_EXCL and MODE, fsynced, together
 * with its directory. CV_EEXIST when PATH exists.
 */
int cv_write_file_excl(const char *path, const void *buf, size_t len, int mode);

/* fsync the directory DIR. */
int cv_fsync_dir(const char *dir);

/* snprintf into BUF; CV_ETOOBIG when it does not fit. */
int cv_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Parse a JSON text of at most MAX bytes that must be an object.
 * CV_EJSON for malformed JSON or a non-object, CV_ETOOBIG when too large.
 */
int cv_json_parse_object(
    const char *text, size_t len, size_t max, json_t **out);

/*
 * Canonical JSON: sorted keys, no insignificant whitespace, UTF-8 kept.
 * Returns a malloc'd string or NULL.
 */
char *cv_json_canonical(const json_t *j);

/*
 * Helpers for reading bounded JSON definitions (instruments, flows, case
 * summaries). cv_errf formats into ERR when it is not NULL. A definition
 * may hold only the listed keys: cv_json_only_keys is 0 when OBJ has no
 * other, else -1. cv_json_text reads string KEY of at most MAX bytes
 * without NULs, non-empty, into DST (MAX + 1 bytes; may be NULL): 0 when
 * it is there and well-formed, or absent and not REQUIRED, else -1.
 */
void cv_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cv_json_only_keys(const json_t *obj, const char *const *keys, size_t nkeys);
int cv_json_text(
    const json_t *obj, const char *key, int required, size_t max, char *dst);

/*
 * 1 when S is 1..MAX bytes of ASCII letters, digits and bytes of PUNCT;
 * with CV_TOKEN_LOWER in FLAGS, upper-case letters are refused.
 */
#define CV_TOKEN_LOWER 0x1u
int cv_token_valid(
    const char *s, size_t max, const char *punct, unsigned flags);

/* A user, role or record type name: [a-z0-9_.-], 1..CV_NAME_MAX bytes. */
int cv_name_valid(const char *name);

#endif
