/*
 * The audit repository's on-disk layout, shared by the writer (commit.c,
 * repo.c) and the verifier (verify.c) so that both build byte-identical
 * trees, state blobs and commit messages. See docs/audit-format.md.
 */
#ifndef CV_AUDIT_LAYOUT_H
#define CV_AUDIT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>
#include <jansson.h>

#include "base/merkle.h"

#define AUDIT_REF       "refs/heads/main"
#define AUDIT_STATE     "state.json"
#define AUDIT_NAME      "casevault audit"
#define AUDIT_EMAIL     "audit@casevault.invalid"
#define AUDIT_NS        "git"
#define AUDIT_FANOUT    100
#define AUDIT_LEVELS    5 /* e, three middle levels, the leaf directory */
#define AUDIT_SEQ_MAX   UINT64_C(999999999)
#define AUDIT_BATCH_MAX 512
#define AUDIT_MSG_MAX   256
#define AUDIT_STATE_MAX 4096

/* Writes or hashes one object; the writer stores it, the verifier only
 * needs its id. */
typedef int (*audit_put_fn)(
    void *ctx, git_object_t type, const void *buf, size_t len, git_oid *out);

/*
 * The right edge of the e/ tree of a log of SIZE events: enough to write
 * the next commit's trees without reading the old ones. ids[k] holds the
 * entries of the level-k tree on the path to event SIZE (level 0 is e/,
 * level 4 the leaf directory of event blobs); see layout.c.
 */
struct audit_layout {
	uint64_t size;
	git_oid ids[AUDIT_LEVELS][AUDIT_FANOUT];
};

/* "e/0/00/01/23/000012345.json" for 12345 into BUF (at least 32 bytes). */
void audit_event_path(uint64_t seq, char buf[static 32]);

/* Record event SEQ (= size + 1) with blob ID; may write a finished leaf
 * or middle tree through PUT. */
int audit_layout_add(struct audit_layout *l, uint64_t seq, const git_oid *id,
    audit_put_fn put, void *ctx);

/* Write the current leaf, middle and e trees, then the root tree holding
 * "e" and the state blob STATE_ID, into *root. */
int audit_layout_finish(struct audit_layout *l, const git_oid *state_id,
    audit_put_fn put, void *ctx, git_oid *root);

/* Load the right edge of the log of SIZE events in the commit tree ROOT. */
int audit_layout_load(struct audit_layout *l, git_repository *repo,
    const git_tree *root, uint64_t size);

/*
 * The state blob: canonical JSON {"frontier":[hex...],"last_write":N,
 * "size":N,"time":"...","version":1}. Returns a malloc'd string or NULL.
 */
char *audit_state_format(
    const struct cv_merkle *m, uint64_t last_write, uint64_t time_ms);

/* Parse a state blob back. Returns 0 or CV_ECORRUPT. */
int audit_state_parse(const char *buf, size_t len, struct cv_merkle *m,
    uint64_t *last_write, uint64_t *time_ms);

/* The commit message for events FIRST..LAST with tree head ROOT. */
int audit_message_format(char *buf, size_t size, uint64_t first, uint64_t last,
    const uint8_t root[static CV_MERKLE_HASHBYTES]);

/* FIRST and LAST from a message's first line "audit: events A-B". */
int audit_message_range(const char *msg, uint64_t *first, uint64_t *last);

/* Lowercase hex of N bytes into OUT (2N + 1 bytes). */
void audit_hex(const uint8_t *p, size_t n, char *out);

#endif
