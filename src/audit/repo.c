/*
 * The audit repository and the handle on it: create, open, close, push,
 * and the trail's state as of a head, which opening reads and which a
 * leader reads again when another process has appended. Invariants: see
 * internal.h.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "casevault.h"
#include "audit/auditlog.h"
#include "audit/internal.h"
#include "audit/layout.h"
#include "base/error.h"
#include "base/gitpack.h"
#include "base/sshsig.h"
#include "base/util.h"

#define PRINCIPAL_MAX 64
#define ZLEVEL                                                                 \
	1 /* events and trees: level 1 is ~4x faster than 6                    \
	     for a few percent of size */

static int
principal_valid(const char *p)
{
	return cv_token_valid(p, PRINCIPAL_MAX, "@._-", 0);
}

static void
fsync_on(void)
{
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
}

int
cv_auditlog_create(
    const char *vaultdir, const uint8_t pk[static 32], const char *principal)
{
	char gitdir[4096], path[4096], line[CV_SSHSIG_PUBLINE_MAX];
	char as[CV_SSHSIG_PUBLINE_MAX + PRINCIPAL_MAX + 32];
	git_repository_init_options o;
	git_repository *repo = NULL;
	int r, fd, inited = 0;
	struct stat sb;

	if (vaultdir == NULL || principal == NULL ||
	    !principal_valid(principal))
		return CV_EINVAL;
	if ((r = cv_path(gitdir, sizeof(gitdir), "%s/audit.git", vaultdir)) !=
	    0)
		return r;
	if (stat(gitdir, &sb) == 0)
		return CV_EEXIST;
	git_libgit2_init();
	inited = 1;
	fsync_on();
	git_repository_init_options_init(
	    &o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
	    GIT_REPOSITORY_INIT_MKPATH;
	o.initial_head = "main";
	o.description = "casevault audit trail";
	if (git_repository_init_ext(&repo, gitdir, &o) != 0) {
		r = CV_EAUDIT;
		goto out;
	}
	if ((r = cv_path(path, sizeof(path), "%s/" LOCK_FILE, gitdir)) != 0)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		r = CV_EIO;
		goto out;
	}
	close(fd);
	if ((r = cv_fsync_dir(gitdir)) != 0)
		goto out;
	if ((r = cv_sshsig_pubkey_line(
	         pk, "casevault-audit", line, sizeof(line))) != 0)
		goto out;
	if ((r = cv_path(
	         path, sizeof(path), "%s/audit_signer.pub", vaultdir)) != 0 ||
	    (r = cv_path(as, sizeof(as), "%s\n", line)) != 0 ||
	    (r = cv_write_file_excl(path, as, strlen(as), 0644)) != 0)
		goto out;
	if ((r = cv_sshsig_pubkey_line(pk, NULL, line, sizeof(line))) != 0 ||
	    (r = cv_path(path, sizeof(path), "%s/allowed_signers", vaultdir)) !=
	        0 ||
	    (r = cv_path(as, sizeof(as), "%s namespaces=\"git\" %s\n",
	         principal, line)) != 0 ||
	    (r = cv_write_file_excl(path, as, strlen(as), 0644)) != 0)
		goto out;
	r = 0;
out:
	git_repository_free(repo);
	if (inited)
		git_libgit2_shutdown();
	return r;
}

/* Read the trail's state as of commit HEAD (or the empty log). */
int
audit_load_state(git_repository *repo, const git_oid *head, struct tstate *st)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_blob *b = NULL;
	const git_tree_entry *te;
	int r = CV_EAUDIT;

	memset(st, 0, sizeof(*st));
	cv_merkle_init(&st->mt);
	if (head == NULL)
		return 0;
	if (git_commit_lookup(&c, repo, head) != 0 ||
	    git_commit_tree(&t, c) != 0 ||
	    (te = git_tree_entry_byname(t, AUDIT_STATE)) == NULL ||
	    git_blob_lookup(&b, repo, git_tree_entry_id(te)) != 0)
		goto out;
	if (audit_state_parse(git_blob_rawcontent(b),
	        (size_t)git_blob_rawsize(b), &st->mt, &st->last_write,
	        &st->last_time) != 0)
		goto out;
	if (audit_layout_load(&st->lay, repo, t, st->mt.size) != 0)
		goto out;
	st->has_head = 1;
	git_oid_cpy(&st->head, head);
	r = 0;
out:
	git_blob_free(b);
	git_tree_free(t);
	git_commit_free(c);
	return r;
}

/*
 * A writer extends only a head signed with its own key: an unsigned or
 * foreign commit put on top of the trail is refused, not built upon.
 * (The public key is the second half of a libsodium Ed25519 secret key.)
 */
int
audit_head_signed(struct cv_auditlog *a, const git_oid *id)
{
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	int r = CV_EAUDIT;

	if (git_commit_extract_signature(
	        &sig, &data, a->repo, (git_oid *)id, NULL) != 0)
		return CV_EAUDIT;
	if (cv_sshsig_verify(
	        sig.ptr, sig.size, a->sk + 32, "git", data.ptr, data.size) == 0)
		r = 0;
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return r;
}

/* The branch head: 1 and *id, 0 when unborn, or CV_EAUDIT. */
int
audit_read_head(git_repository *repo, git_oid *id)
{
	int e = git_reference_name_to_id(id, repo, AUDIT_REF);

	if (e == 0)
		return 1;
	return e == GIT_ENOTFOUND ? 0 : CV_EAUDIT;
}

int
cv_auditlog_open(
    const char *vaultdir, const uint8_t *sk, struct cv_auditlog **out)
{
	struct cv_auditlog *a = NULL;
	char path[4096];
	git_oid head;
	int r = CV_ENOMEM, h;

	*out = NULL;
	if (vaultdir == NULL)
		return CV_EINVAL;
	git_libgit2_init();
	fsync_on();
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto fail;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		a = NULL;
		goto fail;
	}
	pthread_cond_init(&a->cv, NULL);
	pthread_cond_init(&a->arrive, NULL);
	pthread_cond_init(&a->hk_cv, NULL);
	if ((r = cv_path(path, sizeof(path), "%s/audit.git", vaultdir)) != 0)
		goto fail;
	r = CV_ENOMEM;
	if ((a->gitdir = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/" LOCK_FILE, a->gitdir) != 0 ||
	    (a->lockpath = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/" AUDIT_REF, a->gitdir) != 0 ||
	    (a->refpath = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/" AUDIT_REF ".lock", a->gitdir) !=
	        0 ||
	    (a->reflockpath = strdup(path)) == NULL)
		goto fail;
	if (cv_path(path, sizeof(path), "%s/objects/pack", a->gitdir) != 0 ||
	    (a->packdir = strdup(path)) == NULL)
		goto fail;
	if (sk != NULL) {
		if ((a->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) ==
		        NULL ||
		    audit_packw_new(ZLEVEL, &a->pw) != 0 ||
		    audit_packw_new(ZLEVEL, &a->hkw) != 0)
			goto fail;
		audit_packw_spares(a->pw, audit_take_spare, a);
		memcpy(a->sk, sk, crypto_sign_SECRETKEYBYTES);
		sodium_mprotect_readonly(a->sk);
	}
	r = CV_EAUDIT;
	if (git_repository_open_bare(&a->repo, a->gitdir) != 0 ||
	    git_repository_odb(&a->odb, a->repo) != 0)
		goto fail;
	if ((h = audit_read_head(a->repo, &head)) < 0)
		goto fail;
	/* A writer starts only from a head signed with its key. */
	if (h && a->sk != NULL && audit_head_signed(a, &head) != 0) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), &head);
		cv_error_set("the trail's head %s is not signed by the vault's "
		             "audit key",
		    hex);
		goto fail;
	}
	if (audit_load_state(a->repo, h ? &head : NULL, &a->st) != 0)
		goto fail;
	a->loaded = 1;
	*out = a;
	return 0;
fail:
	cv_auditlog_close(a);
	if (a == NULL)
		git_libgit2_shutdown();
	return r;
}

void
cv_auditlog_close(struct cv_auditlog *a)
{
	if (a == NULL)
		return;
	audit_housekeep_stop(a);
	if (a->sk != NULL)
		sodium_free(a->sk); /* wipes */
	audit_packw_free(a->pw);
	audit_packw_free(a->hkw);
	git_odb_free(a->odb);
	git_repository_free(a->repo);
	free(a->gitdir);
	free(a->lockpath);
	free(a->refpath);
	free(a->reflockpath);
	free(a->packdir);
	pthread_cond_destroy(&a->hk_cv);
	pthread_cond_destroy(&a->arrive);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
	git_libgit2_shutdown();
}

/* libgit2 lists a repository's packs once and again only on a miss; after
 * our own writes, list them before reading so a lookup never pays for the
 * miss (and so that packs merged away are forgotten). */
void
audit_fresh(struct cv_auditlog *a)
{
	if (a->stale && git_odb_refresh(a->odb) == 0)
		a->stale = 0;
}

static int
push_status(const char *refname, const char *status, void *data)
{
	(void)refname;
	if (status != NULL)
		*(int *)data = 1;
	return 0;
}

/*
 * A mirror is the check against rewrites, so stock git must not rewrite
 * it either: receive-pack refuses a non-fast-forward update and the
 * deletion of a branch in a repository configured so.
 */
static int
mirror_protect(git_repository *mirror)
{
	git_config *cfg = NULL;
	int r = CV_EAUDIT;

	if (git_repository_config(&cfg, mirror) == 0 &&
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 1) == 0 &&
	    git_config_set_bool(cfg, "receive.denyDeletes", 1) == 0)
		r = 0;
	git_config_free(cfg);
	return r;
}

/*
 * The mirror's branch must be a prefix of the trail (its head an ancestor
 * of ours, or unborn) before anything is sent: a mirror that holds
 * another history is evidence, never overwritten. Remotes that are not
 * local paths are left to the transport's fast-forward rule. MIRROR, when
 * not NULL, is the repository just created at REMOTE.
 */
static int
mirror_is_prefix(
    git_repository *repo, const char *remote, git_repository *mirror)
{
	git_repository *m = mirror;
	const char *path = remote;
	git_oid theirs, ours;
	int r = CV_EAUDIT, e;

	if (strncmp(path, "file://", 7) == 0)
		path += 7;
	if (m == NULL && git_repository_open_bare(&m, path) != 0) {
		cv_error_set("the mirror %s cannot be opened", remote);
		return CV_EAUDIT;
	}
	e = git_reference_name_to_id(&theirs, m, AUDIT_REF);
	if (e == GIT_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (e != 0 || audit_read_head(repo, &ours) != 1) {
		cv_error_set(
		    "the branch of the mirror %s cannot be read", remote);
		goto out;
	}
	if (git_oid_equal(&theirs, &ours) ||
	    git_graph_descendant_of(repo, &ours, &theirs) == 1)
		r = 0;
	else
		cv_error_set("the mirror %s is not a prefix of the trail: "
		             "its branch holds another history, or more",
		    remote);
out:
	if (m != mirror)
		git_repository_free(m);
	return r;
}

int
cv_auditlog_push(const char *vaultdir, const char *remote)
{
	char gitdir[4096];
	const char *spec = AUDIT_REF ":" AUDIT_REF;
	git_strarray specs = {(char **)&spec, 1};
	git_remote_create_options ro;
	git_push_options po;
	git_repository *repo = NULL, *mirror = NULL;
	git_remote *rem = NULL;
	int r = CV_EAUDIT, rejected = 0;
	struct stat sb;

	if (vaultdir == NULL || remote == NULL || *remote == '\0' ||
	    remote[0] == '-')
		return CV_EINVAL;
	if (strstr(remote, "://") != NULL && strncmp(remote, "file://", 7) != 0)
		return CV_EINVAL;
	if ((r = cv_path(gitdir, sizeof(gitdir), "%s/audit.git", vaultdir)) !=
	    0)
		return r;
	r = CV_EAUDIT;
	git_libgit2_init();
	fsync_on();
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	if (strncmp(remote, "file://", 7) != 0 && stat(remote, &sb) != 0) {
		/* A new mirror's HEAD names the trail's branch, so it opens
		 * (and a backup of the vault works) like the original. */
		git_repository_init_options io;
		git_repository_init_options_init(
		    &io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		io.flags = GIT_REPOSITORY_INIT_BARE |
		    GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
		io.initial_head = "main";
		if (git_repository_init_ext(&mirror, remote, &io) != 0 ||
		    mirror_protect(mirror) != 0)
			goto out;
	}
	if (git_repository_open_bare(&repo, gitdir) != 0)
		goto out;
	if ((r = mirror_is_prefix(repo, remote, mirror)) != 0)
		goto out;
	r = CV_EAUDIT;
	/* A mirror is named exactly: no url.*.insteadOf rewriting. */
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&rem, remote, &ro) != 0)
		goto out;
	po.callbacks.push_update_reference = push_status;
	po.callbacks.payload = &rejected;
	if (git_remote_push(rem, &specs, &po) != 0 || rejected)
		goto out;
	r = 0;
out:
	git_remote_free(rem);
	git_repository_free(mirror);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}
