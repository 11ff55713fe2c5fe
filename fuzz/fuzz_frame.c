/*
 * The frame reader takes whatever anyone who can reach the daemon's
 * socket sends. Anything may come in, nothing may crash or hang, and what
 * it accepts is one JSON object within the limits that writes back as a
 * frame reading the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "casevault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A socketpair holding DATA (as much as it takes), its writer closed. */
static int
loaded(const uint8_t *data, size_t size)
{
	int sv[2], sz = 1 << 21;
	ssize_t n;
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	while (off < size &&
	    (n = send(sv[1], data + off, size - off, MSG_DONTWAIT)) > 0)
		off += (size_t)n;
	close(sv[1]);
	return sv[0];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = NULL, *k = NULL;
	int fd, sv[2];

	fd = loaded(data, size);
	if (cv_frame_read(fd, CV_FRAME_MAX, 1000, &j) != 0) {
		if (j != NULL)
			abort();
		close(fd);
		return 0;
	}
	close(fd);
	if (!json_is_object(j))
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	/* What was read is at most a frame, so it fits the pair's buffer
	 * unless it grew when written again; either way no hang. */
	if (cv_frame_write(sv[1], j, 1000) == 0) {
		if (cv_frame_read(sv[0], CV_FRAME_MAX, 1000, &k) != 0 ||
		    !json_equal(j, k))
			abort();
	}
	json_decref(k);
	json_decref(j);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
