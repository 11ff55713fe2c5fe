/*
 * The error detail of the calling thread (cv_error_detail in the public
 * header reads it). Every public function that can fail clears it when it
 * starts, so a detail never describes an earlier call's failure; those that
 * cannot fail (cv_session_close, the session's names, cv_role_valid,
 * cv_time_format) leave it, so a caller may still read it after them.
 */
#ifndef CV_ERROR_H
#define CV_ERROR_H

/* Forget this thread's detail. */
void cv_error_clear(void);

/* Set this thread's error detail (printf-style; never put data in it). */
void cv_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
