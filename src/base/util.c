/* Small helpers shared by every module. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "casevault.h"
#include "base/error.h"
#include "base/util.h"

/* Set only by tests and benchmarks (cv_clock_set_offset_ms); atomic
 * because the trail's writer threads read the clock too. */
static _Atomic int64_t clock_offset;

uint64_t
cv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	    (uint64_t)clock_offset;
}

void
cv_clock_set_offset_ms(int64_t ms)
{
	clock_offset = ms;
}

void
cv_format_time(uint64_t ms, char buf[static 25])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	/* Years past 9999 do not fit the format: clamp, never truncate. */
	if (tm.tm_year > 9999 - 1900)
		tm.tm_year = 9999 - 1900;
	snprintf(buf, 25, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000));
}

void
cv_format_date(uint64_t ms, char buf[static 11])
{
	char t[25];

	cv_format_time(ms, t);
	memcpy(buf, t, 10);
	buf[10] = '\0';
}

static int
digits(const char *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

int
cv_parse_time(const char *s, uint64_t *ms)
{
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h = 0, mi = 0, sec = 0, milli = 0, leap;
	size_t n = strlen(s);
	struct tm tm;
	time_t t;

	if (n < 10 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d))
		return CV_EINVAL;
	if (n > 10) {
		if (s[10] != 'T' || n < 17 || digits(s + 11, 2, &h) ||
		    s[13] != ':' || digits(s + 14, 2, &mi))
			return CV_EINVAL;
		s += 16;
		if (*s == ':') {
			if (digits(s + 1, 2, &sec))
				return CV_EINVAL;
			s += 3;
			if (*s == '.') {
				if (digits(s + 1, 3, &milli))
					return CV_EINVAL;
				s += 4;
			}
		}
		if (strcmp(s, "Z") != 0)
			return CV_EINVAL;
	}
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
	    sec > 59)
		return CV_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t < 0)
		return CV_EINVAL;
	*ms = (uint64_t)t * 1000 + (uint64_t)milli;
	return 0;
}

_Static_assert(CV_TIME_LEN + 1 == 25, "cv_format_time writes 25 bytes");

void
cv_time_format(uint64_t ms, char buf[static CV_TIME_LEN + 1])
{
	cv_format_time(ms, buf);
}

int
cv_time_parse(const char *text, uint64_t *ms)
{
	cv_error_clear();
	return text == NULL || ms == NULL ? CV_EINVAL : cv_parse_time(text, ms);
}

/* Read FD to its end, at most MAX bytes, as cv_read_file; FD is left open. */
static int
read_fd(int fd, size_t max, char **buf, size_t *len)
{
	int r = CV_EIO;
	size_t cap = 4096, n = 0;
	char *b = NULL, *nb;
	ssize_t got;

	*buf = NULL;
	*len = 0;
	if ((b = malloc(cap + 1)) == NULL) {
		r = CV_ENOMEM;
		goto out;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				r = CV_ETOOBIG;
				goto out;
			}
			cap *= 2;
			if ((nb = realloc(b, cap + 1)) == NULL) {
				r = CV_ENOMEM;
				goto out;
			}
			b = nb;
		}
		got = read(fd, b + n, cap - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			r = CV_ETOOBIG;
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	r = 0;
out:
	free(b);
	return r;
}

int
cv_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int fd, r;

	*buf = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, max, buf, len);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return CV_EIO;
	r = read_fd(fd, max, buf, len);
	close(fd);
	return r;
}

int
cv_read_file_nofollow(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat sb;
	int fd, r = CV_EUNSAFE;

	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the
	 * open; it is refused below like any other non-file. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return errno == ELOOP ? CV_EUNSAFE : CV_EIO;
	if (fstat(fd, &sb) != 0)
		r = CV_EIO;
	else if (S_ISREG(sb.st_mode))
		r = read_fd(fd, max, buf, len);
	close(fd);
	return r;
}

int
cv_fsync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return CV_EIO;
	r = fsync(fd) == 0 ? 0 : CV_EIO;
	close(fd);
	return r;
}

int
cv_write_file_excl(const char *path, const void *buf, size_t len, int mode)
{
	char dir[4096];
	const char *slash;
	size_t off = 0;
	ssize_t w;
	int fd, r = CV_EIO;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1)
		return errno == EEXIST ? CV_EEXIST : CV_EIO;
	while (off < len) {
		w = write(fd, (const char *)buf + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto out;
	r = 0;
out:
	close(fd);
	if (r != 0) {
		unlink(path);
		return r;
	}
	if ((slash = strrchr(path, '/')) == NULL)
		return cv_fsync_dir(".");
	if ((size_t)(slash - path) >= sizeof(dir))
		return CV_ETOOBIG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return cv_fsync_dir(slash == path ? "/" : dir);
}

int
cv_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return CV_ETOOBIG;
	return 0;
}

int
cv_json_parse_object(const char *text, size_t len, size_t max, json_t **out)
{
	json_error_t err;
	json_t *j;

	*out = NULL;
	if (len > max)
		return CV_ETOOBIG;
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL)
		return CV_EJSON;
	if (!json_is_object(j)) {
		json_decref(j);
		return CV_EJSON;
	}
	*out = j;
	return 0;
}

char *
cv_json_canonical(const json_t *j)
{
	return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
}

int
cv_token_valid(const char *s, size_t max, const char *punct, unsigned flags)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c >= 'A' && c <= 'Z' && !(flags & CV_TOKEN_LOWER)) ||
		    strchr(punct, c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

int
cv_name_valid(const char *name)
{
	return cv_token_valid(name, CV_NAME_MAX, "_.-", CV_TOKEN_LOWER);
}

void
cv_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
cv_json_only_keys(const json_t *obj, const char *const *keys, size_t nkeys)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach ((json_t *)obj, k, v) {
		for (i = 0; i < nkeys; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == nkeys)
			return -1;
	}
	return 0;
}

int
cv_json_text(
    const json_t *obj, const char *key, int required, size_t max, char *dst)
{
	json_t *v = json_object_get(obj, key);
	size_t n;

	if (v == NULL)
		return required ? -1 : 0;
	if (!json_is_string(v))
		return -1;
	n = json_string_length(v);
	if (n == 0 || n > max || strlen(json_string_value(v)) != n)
		return -1;
	if (dst != NULL)
		memcpy(dst, json_string_value(v), n + 1);
	return 0;
}
