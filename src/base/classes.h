/*
 * Data classes. Every field of every record belongs to exactly one class;
 * policies, consent and redaction speak in classes, never in field names.
 * A set of classes is a bit mask, bit i for class i.
 */
#ifndef CV_CLASSES_H
#define CV_CLASSES_H

#include <stddef.h>

#include <jansson.h>

enum cv_class {
	CV_CLASS_IDENTITY = 0,
	CV_CLASS_CONTACT,
	CV_CLASS_INCIDENT,
	CV_CLASS_HEALTH,
	CV_CLASS_ASSESSMENT,
	CV_CLASS_COUNSELING_NOTE,
	CV_CLASS_SERVICES,
	CV_CLASS_LEGAL,
	CV_CLASS_CASE_ADMIN,
	CV_CLASS_COUNT
};

typedef unsigned int cv_classmask;

#define CV_CLASS_BIT(c) (1u << (c))
#define CV_CLASS_ALL    ((1u << CV_CLASS_COUNT) - 1)

/* The class's name ("identity", ...), or NULL when C is out of range. */
const char *cv_class_name(enum cv_class c);

/* The class named NAME, or -1. */
int cv_class_parse(const char *name);

/*
 * Parse LIST, a JSON array of class names (["incident", "legal"]), the one
 * shape in which the public API takes a list of classes, into *mask. A
 * class named twice counts once. Returns 0, or CV_EINVAL (and *mask 0)
 * when LIST is not an array, is empty, or holds anything but a class name.
 */
int cv_classes_parse(const json_t *list, cv_classmask *mask);

/*
 * The classes of MASK as a new JSON array of their names, in class order:
 * the shape cv_classes_parse reads, and the one events and results give.
 * NULL when out of memory.
 */
json_t *cv_classes_json(cv_classmask mask);

#endif
