/*
 * Frames over socketpairs: what the daemon reads from anyone who can reach
 * its socket. Good frames round-trip; every malformed one (garbage, short,
 * oversize, invalid UTF-8, too deep, not one object) is refused with the
 * code the header promises; slow and silent peers time out on the whole
 * frame's deadline; writes survive partial sends, signals and a closed
 * peer.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "casevault.h"

static int sv[2];

static int
setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

static int
teardown(void **state)
{
	(void)state;
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send a raw frame: LEN as the header, then N bytes of BODY. */
static void
send_raw(uint32_t len, const void *body, size_t n)
{
	uint8_t h[4] = {len >> 24, len >> 16, len >> 8, len};

	assert_int_equal(write(sv[1], h, 4), 4);
	if (n > 0)
		assert_int_equal(write(sv[1], body, n), (ssize_t)n);
}

/* Send TEXT as a frame with the right length. */
static void
send_text(const char *text)
{
	send_raw((uint32_t)strlen(text), text, strlen(text));
}

/* Read one frame from the other end; the code, the value dropped. */
static int
read_code(size_t max, int timeout)
{
	json_t *j = (json_t *)1;
	int r;

	r = cv_frame_read(sv[0], max, timeout, &j);
	if (r != 0)
		assert_null(j);
	json_decref(j);
	return r;
}

static void
round_trip(void **state)
{
	json_t *m, *got;

	(void)state;
	m = json_pack("{s:s, s:{s:s, s:[i, b, n]}, s:s}", "op", "call", "args",
	    "case", "C7ADD26C997", "list", 1, 1, "name", "Ibu Sé 🌱");
	assert_non_null(m);
	assert_int_equal(cv_frame_write(sv[1], m, 1000), 0);
	assert_int_equal(cv_frame_write(sv[1], m, 1000), 0);
	assert_int_equal(cv_frame_read(sv[0], CV_FRAME_MAX, 1000, &got), 0);
	assert_true(json_equal(m, got));
	json_decref(got);
	/* A second frame on the same stream: nothing read past the first. */
	assert_int_equal(cv_frame_read(sv[0], CV_FRAME_MAX, 1000, &got), 0);
	assert_true(json_equal(m, got));
	json_decref(got);
	json_decref(m);
}

static void
wire_is_big_endian_compact(void **state)
{
	uint8_t buf[64];
	json_t *m;

	(void)state;
	m = json_pack("{s:[i,i]}", "a", 1, 2);
	assert_int_equal(cv_frame_write(sv[1], m, 1000), 0);
	assert_int_equal(read(sv[0], buf, sizeof(buf)), 4 + 11);
	assert_memory_equal(buf, "\0\0\0\x0b{\"a\":[1,2]}", 15);
	json_decref(m);
}

static void
garbage(void **state)
{
	(void)state;
	send_text("hello");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
}

static void
trailing_and_second_object(void **state)
{
	(void)state;
	send_text("{}{}");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
	send_text("{\"a\":1} x");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
	send_text("{\"a\":1}  ");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), 0);
}

static void
not_an_object(void **state)
{
	static const char *const texts[] = {"[]", "\"op\"", "1", "null",
	    "true"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		send_text(texts[i]);
		assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
	}
}

static void
duplicate_keys(void **state)
{
	(void)state;
	send_text("{\"op\":\"status\",\"op\":\"login\"}");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
}

static void
nul_byte(void **state)
{
	(void)state;
	send_raw(9, "{\"a\":\"\0\"}", 9);
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
	send_text("{\"a\":\"\\u0000\"}");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
}

static void
truncated(void **state)
{
	(void)state;
	send_raw(100, "{\"op\":", 6);
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
}

static void
truncated_length(void **state)
{
	(void)state;
	assert_int_equal(write(sv[1], "\0\0", 2), 2);
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
}

static void
peer_closed(void **state)
{
	(void)state;
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_ENOTFOUND);
}

static void
empty_frame(void **state)
{
	(void)state;
	send_raw(0, NULL, 0);
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
}

static void
oversize(void **state)
{
	uint8_t left[8];

	(void)state;
	/* Refused on the length alone: the body stays unread. */
	send_raw(0xffffffffu, "{}", 2);
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_ETOOBIG);
	assert_int_equal(recv(sv[0], left, sizeof(left), MSG_DONTWAIT), 2);
	send_raw(CV_FRAME_MAX + 1, "{}", 2);
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_ETOOBIG);
	assert_int_equal(recv(sv[0], left, sizeof(left), MSG_DONTWAIT), 2);
	/* The caller's own bound, and one past it. */
	send_text("{\"a\":\"123456\"}");
	assert_int_equal(read_code(14, 1000), 0);
	send_text("{\"a\":\"1234567\"}");
	assert_int_equal(read_code(14, 1000), CV_ETOOBIG);
}

static void
invalid_utf8(void **state)
{
	static const char *const bad[] = {
	    "{\"a\":\"\xff\"}",             /* never a UTF-8 byte */
	    "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
	    "{\"a\":\"\xe0\x80\xaf\"}",     /* overlong, three bytes */
	    "{\"a\":\"\xed\xa0\x80\"}",     /* a surrogate */
	    "{\"a\":\"\xf4\x90\x80\x80\"}", /* past U+10FFFF */
	    "{\"a\":\"\xc3\"}",             /* cut short */
	    "{\"\xe9\":1}",                 /* Latin-1 in a key */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_text(bad[i]);
		assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
	}
	send_text("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x8c\xb1\"}");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), 0);
}

/* Send an object nested DEPTH deep: {"a":OPEN...INNER...CLOSE}. */
static void
send_nested(int depth, const char *open, const char *inner,
    const char *close_)
{
	size_t n = (size_t)depth * (strlen(open) + 2) + 16, off = 0;
	char *t = malloc(n);
	int i;

	assert_non_null(t);
	off += (size_t)snprintf(t + off, n - off, "{\"a\":");
	for (i = 0; i < depth - 2; i++)
		off += (size_t)snprintf(t + off, n - off, "%s", open);
	off += (size_t)snprintf(t + off, n - off, "%s", inner);
	for (i = 0; i < depth - 2; i++)
		off += (size_t)snprintf(t + off, n - off, "%s", close_);
	off += (size_t)snprintf(t + off, n - off, "}");
	send_raw((uint32_t)off, t, off);
	free(t);
}

/* Sends a frame 300000 brackets deep. */
static void *
send_deep(void *arg)
{
	static char big[4 + 300000];
	size_t off = 0;
	ssize_t n;

	(void)arg;
	memcpy(big, "\0\x04\x93\xe0", 4); /* 300000 */
	memset(big + 4, '[', 200000);
	memset(big + 4 + 200000, ']', 100000);
	big[4] = '{';
	while (off < sizeof(big) &&
	    (n = write(sv[1], big + off, sizeof(big) - off)) > 0)
		off += (size_t)n;
	return NULL;
}

static void
deep_nesting(void **state)
{
	json_t *j;

	(void)state;
	send_nested(CV_FRAME_DEPTH, "{\"a\":", "{}", "}");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), 0);
	send_nested(CV_FRAME_DEPTH + 1, "{\"a\":", "{}", "}");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
	send_nested(CV_FRAME_DEPTH, "[", "[]", "]");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), 0);
	send_nested(CV_FRAME_DEPTH + 1, "[", "[]", "]");
	assert_int_equal(read_code(CV_FRAME_MAX, 1000), CV_EPROTO);
	/* Far deeper than any stack would take from a recursive parser;
	 * sent from a thread, since it fills the socket's buffer. */
	{
		pthread_t t;

		assert_int_equal(pthread_create(&t, NULL, send_deep, NULL), 0);
		assert_int_equal(read_code(CV_FRAME_MAX, 5000), CV_EPROTO);
		pthread_join(t, NULL);
	}
	/* Brackets inside strings, escaped quotes included, do not count. */
	send_text("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{"
		  "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"}");
	assert_int_equal(cv_frame_read(sv[0], CV_FRAME_MAX, 1000, &j), 0);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "a"))),
	    40 + 1 + 42);
	json_decref(j);
}

static void
silent_peer(void **state)
{
	int64_t t0;

	(void)state;
	t0 = now_ms();
	assert_int_equal(read_code(CV_FRAME_MAX, 200), CV_ETIMEDOUT);
	assert_true(now_ms() - t0 >= 190);
	assert_true(now_ms() - t0 < 2000);
}

/* Sends a 19-byte frame one byte every 50 ms. */
static void *
trickle(void *arg)
{
	const char *f = "\0\0\0\x0f{\"op\":\"status\"}";
	int i;

	(void)arg;
	for (i = 0; i < 19; i++) {
		if (write(sv[1], f + i, 1) != 1)
			break;
		usleep(50 * 1000);
	}
	return NULL;
}

static void
slow_sender(void **state)
{
	pthread_t t;
	int64_t t0;
	json_t *j;

	(void)state;
	/* Each byte comes well within 300 ms, the frame does not. */
	assert_int_equal(pthread_create(&t, NULL, trickle, NULL), 0);
	t0 = now_ms();
	assert_int_equal(read_code(CV_FRAME_MAX, 300), CV_ETIMEDOUT);
	assert_true(now_ms() - t0 < 700);
	pthread_join(t, NULL);
	/* Given the time, the same trickle is a good frame. */
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pthread_create(&t, NULL, trickle, NULL), 0);
	assert_int_equal(cv_frame_read(sv[0], CV_FRAME_MAX, 5000, &j), 0);
	assert_string_equal(json_string_value(json_object_get(j, "op")),
	    "status");
	json_decref(j);
	pthread_join(t, NULL);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

static void
signals_interrupt(void **state)
{
	struct itimerval it = {{0, 5000}, {0, 5000}}, off = {{0, 0}, {0, 0}};
	struct sigaction sa;
	pthread_t t;
	json_t *j;

	(void)state;
	/* No SA_RESTART: poll and read return EINTR every 5 ms. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, trickle, NULL), 0);
	assert_int_equal(cv_frame_read(sv[0], CV_FRAME_MAX, 5000, &j), 0);
	pthread_join(t, NULL);
	setitimer(ITIMER_REAL, &off, NULL);
	json_decref(j);
}

static json_t *
big_message(size_t n)
{
	char *s = malloc(n + 1);
	json_t *m;

	assert_non_null(s);
	memset(s, 'x', n);
	s[n] = '\0';
	m = json_pack("{s:s}", "data", s);
	free(s);
	assert_non_null(m);
	return m;
}

static void *
reader(void *arg)
{
	json_t **got = arg;

	usleep(100 * 1000);
	if (cv_frame_read(sv[0], CV_FRAME_MAX, 5000, got) != 0)
		*got = NULL;
	return NULL;
}

static void
large_and_partial_writes(void **state)
{
	json_t *m, *got = NULL;
	pthread_t t;
	int sz = 4096;

	(void)state;
	/* A small send buffer: the frame goes out in many pieces. */
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	m = big_message(CV_FRAME_MAX - 20);
	assert_int_equal(pthread_create(&t, NULL, reader, &got), 0);
	assert_int_equal(cv_frame_write(sv[1], m, 5000), 0);
	pthread_join(t, NULL);
	assert_non_null(got);
	assert_true(json_equal(m, got));
	json_decref(got);
	json_decref(m);
}

static void
write_limits(void **state)
{
	json_t *m;

	(void)state;
	m = big_message(CV_FRAME_MAX);
	assert_int_equal(cv_frame_write(sv[1], m, 1000), CV_ETOOBIG);
	json_decref(m);
	/* Nobody reads: the write gives up on its deadline. */
	m = big_message(CV_FRAME_MAX - 20);
	assert_int_equal(cv_frame_write(sv[1], m, 200), CV_ETIMEDOUT);
	json_decref(m);
}

static void
write_to_closed_peer(void **state)
{
	json_t *m;

	(void)state;
	close(sv[0]);
	sv[0] = -1;
	m = json_pack("{s:s}", "op", "status");
	/* No SIGPIPE: the process lives to see CV_EIO. */
	assert_int_equal(cv_frame_write(sv[1], m, 1000), CV_EIO);
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		wire_is_big_endian_compact, setup, teardown),
	    cmocka_unit_test_setup_teardown(garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		trailing_and_second_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(not_an_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(duplicate_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(nul_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(truncated_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(peer_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(empty_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(oversize, setup, teardown),
	    cmocka_unit_test_setup_teardown(invalid_utf8, setup, teardown),
	    cmocka_unit_test_setup_teardown(deep_nesting, setup, teardown),
	    cmocka_unit_test_setup_teardown(silent_peer, setup, teardown),
	    cmocka_unit_test_setup_teardown(slow_sender, setup, teardown),
	    cmocka_unit_test_setup_teardown(signals_interrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		large_and_partial_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(write_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		write_to_closed_peer, setup, teardown),
	};

	if (cv_library_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
