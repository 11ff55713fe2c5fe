/*
 * The error detail of the calling thread (cv_error_detail in the public
 * header reads it). Every public function clears it when it starts, so a
 * detail never describes an earlier call's failure.
 */
#ifndef CV_ERROR_H
#define CV_ERROR_H

/* Forget this thread's detail. */
void cv_error_clear(void);

/* Set this thread's error detail (printf-style; never put data in it). */
void cv_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
