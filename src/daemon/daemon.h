/*
 * casevaultd: what its files share. The daemon holds one unlocked vault
 * (struct cv_vault) and the sessions of the staff who logged in through
 * its Unix socket; it decides nothing itself: the library logs in,
 * dispatches and audits. Like the command it sees include/casevault.h
 * only.
 *
 *   main.c      options, hardening, the socket, signals, the accept loop
 *   conn.c      one thread per client: frames in, operations, frames out
 *   sessions.c  the token table, expiry, and the back-off of failed logins
 *               per peer uid
 */
#ifndef CVD_DAEMON_H
#define CVD_DAEMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "casevault.h"

#define CVD_TOKEN_BYTES  32   /* random bytes of a session token */
#define CVD_TOKEN_HEX    64   /* their hex, as the client holds them */
#define CVD_SESSIONS_MAX 1024 /* sessions open at once */
/* A request may be as large as any frame: the library bounds what it
 * takes (a record of CV_RECORD_MAX, escaped as JSON, may come close). */
#define CVD_REQUEST_MAX   CV_FRAME_MAX
#define CVD_WRITE_TIMEOUT 30 /* seconds a client has to take an answer */

/* What the command line set. */
struct cvd_conf {
	const char *vault;       /* -V DIR */
	const char *socket;      /* --socket PATH */
	const char *unlock_file; /* --unlock-file FILE */
	int idle;          /* --idle: seconds a session or a client idles */
	int lifetime;      /* --lifetime: seconds a session lives */
	int frame_timeout; /* --frame-timeout: seconds for one frame */
	int max_clients;   /* --max-clients */
	int foreground;    /* --foreground */
};

/* The daemon's state, shared by every thread. */
struct cvd {
	struct cvd_conf conf;
	pthread_mutex_t lock;   /* guards what follows */
	pthread_cond_t changed; /* a client left, a session was released */
	struct cv_vault *vault; /* NULL while sealed */
	int clients;            /* client threads running */
	int stopping;           /* SIGTERM: no new request starts */
	int stop_pipe[2];       /* readable once stopping: wakes idle clients */
};

extern struct cvd cvd;

/* Milliseconds of the monotonic clock. */
int64_t cvd_now(void);

/* One line on stderr: "casevaultd: " and the printf-style message. */
void cvd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The name of a CV_E* code ("CV_EDENIED"), "CV_EUNKNOWN" for others. */
const char *cvd_code_name(int r);

/*
 * Serve the client on FD, who is PEER, in a thread of its own that closes
 * FD when done. Returns 0, or CV_ENOMEM with FD closed.
 */
int cvd_client_start(int fd, const struct cv_peer *peer);

/* 1 once SIGTERM came: no new request starts. */
int cvd_stopping(void);

/* ---- sessions.c ---- */

/*
 * Keep S under a new token: its hex goes to HEX (CVD_TOKEN_HEX + 1), the
 * table keeps only the token's hash, with UID (the peer that logged in).
 * Returns 0, or CV_EBUSY when the table is full (S is then the caller's).
 */
int cvd_session_add(
    struct cv_session *s, int64_t uid, char hex[static CVD_TOKEN_HEX + 1]);

/*
 * Take the session of the token HEX for one request, as peer UID: waits
 * while another request of the same session runs. Returns 0 with *S, to
 * give back with cvd_session_put; or CV_ESESSION (no such token, another
 * uid's, or expired).
 */
int cvd_session_take(const char *hex, int64_t uid, struct cv_session **s);

/* Give back a session taken; END ends it with "logout". */
void cvd_session_put(struct cv_session *s, int end);

/* End the sessions idle or older than allowed ("expired"). */
void cvd_session_expire(void);

/* End every session ("shutdown"); no request may be running. */
void cvd_session_end_all(void);

/* The number of sessions open. */
int cvd_session_count(void);

/*
 * Back-off of failed logins and unlocks per peer uid: cvd_backoff_check
 * returns CV_ELOCKED while UID must still wait, else 0;
 * cvd_backoff_note records the outcome R of an attempt (0: success, which
 * forgets the failures; CV_EAUTH and the like: one more failure).
 */
int cvd_backoff_check(int64_t uid);
void cvd_backoff_note(int64_t uid, int r);

#endif
