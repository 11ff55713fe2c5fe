/*
 * Frames: the daemon's wire format. A frame is a 4-byte big-endian length,
 * then that many bytes of compact UTF-8 JSON holding one object.
 *
 * Whatever arrives on the daemon's socket is untrusted, so the reader is
 * bounded in every dimension before jansson sees a byte: the length
 * against MAX (refused before the body is read), the time against one
 * deadline for the whole frame (a peer that sends a byte a second does not
 * hold a thread), the nesting against CV_FRAME_DEPTH (jansson's parser
 * recurses without a limit), and the bytes against strict UTF-8 (jansson
 * checks it too; checking here makes the refusal not depend on its
 * version). Frames carry passphrases and decrypted records, so their
 * buffers are wiped when freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "casevault.h"
#include "base/error.h"
#include "base/memory.h"

/* Milliseconds of the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of DEADLINE as a poll() timeout: -1 for none, 0 if past. */
static int
left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait until FD is ready for EVENTS or DEADLINE passes. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p;
	int n, t;

	for (;;) {
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		t = left_ms(deadline);
		n = poll(&p, 1, t);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return CV_EIO;
		if (n == 0) {
			cv_error_set(
			    "the peer took more than the time allowed");
			return CV_ETIMEDOUT;
		}
		/* POLLHUP and POLLERR: the read or write says what. */
		return 0;
	}
}

/*
 * Read LEN bytes into BUF by DEADLINE. *GOT is how many came, so that a
 * peer closing before the first byte is told from one closing in between.
 */
static int
read_full(int fd, uint8_t *buf, size_t len, int64_t deadline, size_t *got)
{
	ssize_t n;
	int r, sock = 1;

	*got = 0;
	while (*got < len) {
		if ((r = wait_fd(fd, POLLIN, deadline)) != 0)
			return r;
		if (sock) {
			n = recv(fd, buf + *got, len - *got, MSG_DONTWAIT);
			if (n < 0 && errno == ENOTSOCK) {
				sock = 0;
				continue;
			}
		} else
			n = read(fd, buf + *got, len - *got);
		if (n < 0 &&
		    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return CV_EIO;
		if (n == 0)
			return *got == 0 ? CV_ENOTFOUND : CV_EPROTO;
		*got += (size_t)n;
	}
	return 0;
}

/* Write LEN bytes of BUF by DEADLINE, however the peer takes them. */
static int
write_full(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;
	ssize_t n;
	int r, sock = 1;

	while (off < len) {
		if ((r = wait_fd(fd, POLLOUT, deadline)) != 0)
			return r;
		if (sock) {
			n = send(fd, buf + off, len - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno == ENOTSOCK) {
				sock = 0;
				continue;
			}
		} else
			n = write(fd, buf + off, len - off);
		if (n < 0 &&
		    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			cv_error_set("the peer closed the connection");
			return CV_EIO;
		}
		off += (size_t)n;
	}
	return 0;
}

/*
 * The length of the UTF-8 sequence at P (at most LEFT bytes), or 0 when it
 * is not one: overlong forms, surrogates and code points past U+10FFFF are
 * refused, as RFC 3629 asks.
 */
static size_t
utf8_len(const uint8_t *p, size_t left)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

/*
 * Check BUF before parsing: strict UTF-8, no NUL byte, and arrays and
 * objects nested at most CV_FRAME_DEPTH deep (brackets inside strings not
 * counted). What passes may still be malformed JSON; jansson says so.
 */
static int
prescan(const uint8_t *buf, size_t len)
{
	size_t i = 0, n;
	int depth = 0, instr = 0;

	while (i < len) {
		if (buf[i] == 0) {
			cv_error_set("frame: a NUL byte");
			return CV_EPROTO;
		}
		if ((n = utf8_len(buf + i, len - i)) == 0) {
			cv_error_set("frame: invalid UTF-8 at byte %zu", i);
			return CV_EPROTO;
		}
		if (n > 1) {
			i += n;
			continue;
		}
		if (instr) {
			if (buf[i] == '\\')
				i++; /* the escaped byte is no quote */
			else if (buf[i] == '"')
				instr = 0;
		} else if (buf[i] == '"')
			instr = 1;
		else if (buf[i] == '[' || buf[i] == '{') {
			if (++depth > CV_FRAME_DEPTH) {
				cv_error_set("frame: nested deeper than %d",
				    CV_FRAME_DEPTH);
				return CV_EPROTO;
			}
		} else if (buf[i] == ']' || buf[i] == '}')
			depth--;
		i++;
	}
	return 0;
}

int
cv_frame_read(int fd, size_t max, int timeout_ms, json_t **out)
{
	uint8_t hdr[4], *buf = NULL;
	json_error_t jerr;
	int64_t deadline;
	size_t len, got;
	json_t *j = NULL;
	int r;

	cv_error_clear();
	*out = NULL;
	if (max > CV_FRAME_MAX)
		max = CV_FRAME_MAX;
	deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	if ((r = read_full(fd, hdr, sizeof(hdr), deadline, &got)) != 0) {
		if (r == CV_EPROTO)
			cv_error_set("frame: closed inside the length");
		return r;
	}
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | (size_t)hdr[3];
	if (len == 0) {
		cv_error_set("frame: empty");
		return CV_EPROTO;
	}
	if (len > max) {
		cv_error_set("frame: %zu bytes, more than %zu", len, max);
		return CV_ETOOBIG;
	}
	if ((buf = cv_wiped_malloc(len)) == NULL)
		return CV_ENOMEM;
	if ((r = read_full(fd, buf, len, deadline, &got)) != 0) {
		if (r == CV_ENOTFOUND || r == CV_EPROTO) {
			cv_error_set(
			    "frame: closed after %zu of %zu bytes", got, len);
			r = CV_EPROTO;
		}
		goto out;
	}
	if ((r = prescan(buf, len)) != 0)
		goto out;
	/* Duplicate keys are refused: two readers must not see two
	 * different requests in one frame. */
	j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		/* jerr.text may quote the input: give the position only. */
		cv_error_set("frame: malformed JSON at byte %d", jerr.position);
		r = CV_EPROTO;
		goto out;
	}
	if (!json_is_object(j)) {
		cv_error_set("frame: not a JSON object");
		r = CV_EPROTO;
		goto out;
	}
	*out = j;
	j = NULL;
	r = 0;
out:
	json_decref(j);
	cv_wiped_free(buf);
	return r;
}

int
cv_frame_write(int fd, const json_t *msg, int timeout_ms)
{
	const size_t flags = JSON_COMPACT;
	uint8_t *buf = NULL;
	int64_t deadline;
	size_t len;
	int r;

	cv_error_clear();
	deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	if ((len = json_dumpb(msg, NULL, 0, flags)) == 0)
		return CV_ENOMEM;
	if (len > CV_FRAME_MAX) {
		cv_error_set(
		    "frame: %zu bytes, more than %d", len, CV_FRAME_MAX);
		return CV_ETOOBIG;
	}
	if ((buf = cv_wiped_malloc(len + 4)) == NULL)
		return CV_ENOMEM;
	if (json_dumpb(msg, (char *)buf + 4, len, flags) != len) {
		r = CV_ENOMEM;
		goto out;
	}
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	r = write_full(fd, buf, len + 4, deadline);
out:
	cv_wiped_free(buf);
	return r;
}
