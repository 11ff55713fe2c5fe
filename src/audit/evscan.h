/*
 * A quick reading of an event blob for the verifier: one pass over the
 * bytes, no allocation. It recognises only a plain subset of canonical
 * JSON and answers "canonical, with these fields" or "not sure"; the
 * caller takes the full path (parse, canonical form, compare) for the
 * second, so the verdict on every event is the full path's.
 */
#ifndef CV_AUDIT_EVSCAN_H
#define CV_AUDIT_EVSCAN_H

#include <stddef.h>
#include <stdint.h>

/*
 * 1 when BUF[0..LEN) is a JSON object that cv_json_canonical would spell
 * exactly so, whose "seq" is SEQ, whose "time" parses (into *TIME_MS) and
 * whose "store_write", if any, is true (*STORE_WRITE says whether there
 * is one); 0 otherwise, which does not mean the event is bad.
 *
 * The subset: objects with keys in strictly increasing byte order (which
 * is the order JSON_SORT_KEYS gives, and rules out duplicates), arrays,
 * strings of printable ASCII without '"' or '\\' (nothing to escape),
 * integers of at most 18 digits without a leading zero or "-0", true,
 * false and null, no whitespace, nested at most EVSCAN_DEPTH deep.
 * Jansson parses each such text and dumps it back byte for byte.
 */
int audit_event_scan(const char *buf, size_t len, uint64_t seq,
    uint64_t *time_ms, int *store_write);

#endif
