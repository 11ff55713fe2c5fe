/*
 * SSHSIG signatures (OpenSSH PROTOCOL.sshsig) with Ed25519 keys: the
 * format `ssh-keygen -Y sign` writes and `git verify-commit` checks.
 * Keys are libsodium Ed25519 keys: 32-byte public, 64-byte secret.
 */
#ifndef CV_SSHSIG_H
#define CV_SSHSIG_H

#include <stddef.h>
#include <stdint.h>

/* Largest armored signature accepted by cv_sshsig_verify. */
#define CV_SSHSIG_ARMOR_MAX 4096
/* Room for an OpenSSH public key line with a comment of up to 63 bytes. */
#define CV_SSHSIG_PUBLINE_MAX 160

/*
 * Sign the LEN bytes at MSG for namespace NS (e.g. "git") with the 64-byte
 * Ed25519 secret key SK, hash sha512. On success *armored is a new
 * NUL-terminated "-----BEGIN SSH SIGNATURE-----" text ending in a newline,
 * owned by the caller (free); *armored_len, when not NULL, its length.
 * Returns 0, CV_EINVAL (empty or overlong NS), CV_ENOMEM, CV_ECRYPTO.
 */
int cv_sshsig_sign(const uint8_t sk[static 64], const char *ns, const void *msg,
    size_t len, char **armored, size_t *armored_len);

/*
 * Verify the armored SSHSIG text ARMOR (LEN bytes, untrusted; a trailing
 * newline is optional) over the MSGLEN bytes at MSG. It must be version 1,
 * namespace NS, hash sha512 or sha256, key ssh-ed25519 equal to PK.
 * Returns 0 when valid; CV_ETOOBIG (over CV_SSHSIG_ARMOR_MAX),
 * CV_ECORRUPT (malformed armor or blob), CV_EVERSION (not version 1),
 * CV_EVERIFY (other key, other namespace, unknown hash or a signature that
 * does not match). Anything but 0 means: do not trust MSG.
 */
int cv_sshsig_verify(const char *armor, size_t len, const uint8_t pk[static 32],
    const char *ns, const void *msg, size_t msglen)
    __attribute__((warn_unused_result));

/*
 * Render the OpenSSH public key line "ssh-ed25519 AAAA... COMMENT" (no
 * newline; COMMENT may be NULL for none) into BUF of SIZE bytes.
 * Returns 0, CV_EINVAL (comment with spaces or control characters, or
 * longer than 63 bytes), CV_ETOOBIG (BUF too small).
 */
int cv_sshsig_pubkey_line(
    const uint8_t pk[static 32], const char *comment, char *buf, size_t size);

/*
 * Parse an OpenSSH "ssh-ed25519 AAAA... [comment]" line (untrusted, at most
 * CV_SSHSIG_PUBLINE_MAX bytes before an optional newline) into PK.
 * Returns 0, CV_ECORRUPT, CV_ETOOBIG.
 */
int cv_sshsig_pubkey_parse(const char *line, size_t len, uint8_t pk[static 32]);

/*
 * Parse one line of an OpenSSH allowed_signers file (ssh-keygen(1),
 * ALLOWED SIGNERS; untrusted, LEN bytes, a trailing newline optional):
 * "PRINCIPALS [namespaces=\"NS,...\"] ssh-ed25519 AAAA... [COMMENT]".
 * On 0, PK is the key, allowed for namespace NS: the line's namespaces
 * option lists NS or "*", or the line has none (every namespace).
 * Returns 0; CV_ENOTFOUND for a line that pins nothing for NS: blank, a
 * comment, another key type, another namespace, or an option this parser
 * does not honour (cert-authority, valid-after, valid-before), so such a
 * line is never read as a wider pin than it is; CV_ECORRUPT (malformed),
 * CV_ETOOBIG (over 1024 bytes), CV_EINVAL (NS empty or NULL).
 */
int cv_sshsig_allowed_parse(
    const char *line, size_t len, const char *ns, uint8_t pk[static 32]);

#endif
