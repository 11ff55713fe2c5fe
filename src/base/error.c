/*
 * Errors: the static message of each CV_E* code, and the detail of this
 * thread's last failure. The detail names a field, a rule, a file and line,
 * never a value from a record or a secret.
 */
#include <stdarg.h>
#include <stdio.h>

#include "casevault.h"
#include "base/error.h"

const char *
cv_strerror(int err)
{
	switch (err) {
	case CV_OK:
		return "success";
	case CV_EINVAL:
		return "invalid argument or input";
	case CV_ENOMEM:
		return "out of memory";
	case CV_EIO:
		return "input/output error";
	case CV_ECRYPTO:
		return "integrity check failed: the data was altered or moved";
	case CV_EAUTH:
		return "wrong user name or passphrase";
	case CV_EDENIED:
		return "access refused";
	case CV_ENOTFOUND:
		return "not found";
	case CV_EEXIST:
		return "already exists";
	case CV_EAUDIT:
		return "the audit trail cannot be written; refused";
	case CV_ECORRUPT:
		return "the vault is damaged or malformed";
	case CV_ELOCKED:
		return "too many failed logins; wait and try again";
	case CV_ESTORE:
		return "the store failed";
	case CV_ETOOBIG:
		return "input too large";
	case CV_EJSON:
		return "malformed JSON";
	case CV_ESCHEMA:
		return "the record does not match its schema";
	case CV_EPOLICY:
		return "malformed policy";
	case CV_EVERSION:
		return "unsupported format version";
	case CV_EDISABLED:
		return "the account is disabled";
	case CV_EVERIFY:
		return "audit trail verification failed";
	case CV_ESTATE:
		return "not allowed in the current state";
	case CV_EBUSY:
		return "the vault is in use by another process";
	case CV_ESEALED:
		return "the vault is sealed";
	case CV_EUNSAFE:
		return "unsafe vault file or directory; refused";
	case CV_EROLLBACK:
		return "the store is older than its audit trail (rolled "
		       "back?); refused";
	case CV_ETRUNC:
		return "the audit trail is behind the store (truncated, "
		       "rewritten or deleted); refused";
	case CV_ESERVED:
		return "the vault is served by casevaultd; use the daemon "
		       "(CASEVAULT_SOCKET or --socket)";
	case CV_EPROTO:
		return "malformed request or frame";
	case CV_ETIMEDOUT:
		return "timed out";
	case CV_ESESSION:
		return "no such session, or it has ended; log in again";
	default:
		return "unknown error";
	}
}

static _Thread_local char detail[256];

const char *
cv_error_detail(void)
{
	return detail;
}

void
cv_error_clear(void)
{
	detail[0] = '\0';
}

void
cv_error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
}
