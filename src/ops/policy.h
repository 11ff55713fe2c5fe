/*
 * Reading policy files from a directory, for `policy check` and `policy
 * deploy`. The parsing is the rules layer's (cv_policy_set_add); only
 * the file system is touched here. Private to the library.
 */
#ifndef CV_OPS_POLICY_H
#define CV_OPS_POLICY_H

#include <stddef.h>

struct cv_policy_set;

/*
 * Load every regular file named *.policy in DIR (others are ignored) into a
 * new set in *out, owned by the caller. All or nothing: on error *out is NULL,
 * ERR says which file and line, and whatever set the caller held before stays
 * in force. Returns 0, any error of cv_policy_set_add, CV_EIO when DIR or a
 * file cannot be read, CV_ETOOBIG for more than CV_POLICY_FILES_MAX files,
 * CV_EPOLICY for a file over CV_POLICY_FILE_MAX bytes or a directory without
 * a policy file.
 */
int cv_policy_load_dir(
    const char *dir, struct cv_policy_set **out, char *err, size_t errlen);

#endif
