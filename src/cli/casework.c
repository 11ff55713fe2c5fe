/* Notes, assessments, case steps and reports. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "rules/indicator.h"
#include "base/util.h"

/* A note: a bit more than the schema's 20000 characters of 4 bytes. */
#define NOTE_FILE_MAX (96 * 1024)

/* Overwrite the file at PATH with zeros, flush it, and unlink it. */
static void
shred(const char *path)
{
	static const char zeros[4096];
	struct stat st;
	off_t left;
	size_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			for (left = st.st_size; left > 0; left -= (off_t)n) {
				n = left < (off_t)sizeof(zeros) ? (size_t)left
				                                : sizeof(zeros);
				if (write(fd, zeros, n) != (ssize_t)n)
					break;
			}
			fsync(fd);
		}
		close(fd);
	}
	unlink(path);
}

/*
 * Shred every file the editor left in DIR (the note, and any backup or
 * swap file beside it), then remove DIR.
 */
static void
shred_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (cv_path(path, sizeof(path), "%s/%s", dir,
			        de->d_name) == 0)
				shred(path);
		}
		closedir(d);
	}
	cv_fsync_dir(dir);
	rmdir(dir);
}

/*
 * Let the user write the note in $EDITOR (vi when unset). The file lives
 * in a new 0700 directory, is created 0600, and is shredded on every
 * path; the text is returned in *text (wipe and free it).
 */
static int
edit_note(struct cli *c, char **text, size_t *len)
{
	const char *tmp = getenv("TMPDIR"), *editor = getenv("EDITOR");
	char dir[4096], path[4096];
	int fd, status, r = EXIT_REFUSED;
	pid_t pid;

	*text = NULL;
	*len = 0;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (editor == NULL || editor[0] == '\0')
		editor = "vi";
	if (cv_path(dir, sizeof(dir), "%s/casevault-note.XXXXXX", tmp) != 0 ||
	    mkdtemp(dir) == NULL) {
		fprintf(stderr,
		    "casevault %s: cannot create a private "
		    "temporary directory\n",
		    c->name);
		return EXIT_REFUSED;
	}
	if (cv_path(path, sizeof(path), "%s/note.XXXXXX", dir) != 0 ||
	    (fd = mkstemp(path)) < 0) {
		fprintf(stderr,
		    "casevault %s: cannot create a temporary "
		    "file\n",
		    c->name);
		goto out;
	}
	fchmod(fd, 0600);
	close(fd);
	/* The path goes to the shell as "$1", never into the command text. */
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0) {
		setenv("EDITOR", editor, 1);
		execl("/bin/sh", "sh", "-c", "$EDITOR \"$1\"", "sh", path,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr,
		    "casevault %s: the editor failed; nothing was "
		    "saved\n",
		    c->name);
		goto out;
	}
	if ((r = cv_read_file(path, NOTE_FILE_MAX, text, len)) != 0) {
		fprintf(stderr, "casevault %s: %s\n", c->name,
		    r == CV_ETOOBIG ? "the note is too long"
		                    : "cannot read the note back");
		r = EXIT_REFUSED;
		goto out;
	}
	r = 0;
out:
	shred_dir(dir);
	return r;
}

/* 1 when TEXT has nothing but white space. */
static int
empty_text(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
		    text[i] != '\r')
			return 0;
	return 1;
}

static int
cmd_note_add(struct cli *c, int argc, char **argv)
{
	const char *kind = NULL, *date = NULL, *pos[1];
	int edit = 0, n, r;
	struct cli_opt o[] = {{"kind", 'k', &kind, NULL},
	    {"date", 'd', &date, NULL}, {"edit", 'e', NULL, &edit}, {0}};
	struct cv_session *s = NULL;
	char *text = NULL;
	size_t len = 0;
	uint32_t id;

	if ((r = cli_parse(c, argc, argv, o, pos, 1, 1, &n)) != 0)
		return r;
	if (edit || isatty(STDIN_FILENO)) {
		if ((r = edit_note(c, &text, &len)) != 0)
			return r;
	} else if ((r = cv_read_file("-", NOTE_FILE_MAX, &text, &len)) != 0) {
		fprintf(stderr, "casevault %s: %s\n", c->name,
		    r == CV_ETOOBIG ? "the note is too long"
		                    : "cannot read standard input");
		return EXIT_REFUSED;
	}
	/* Editors and here-documents end the text with a newline. */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (empty_text(text, len)) {
		fprintf(stderr,
		    "casevault %s: the note is empty; nothing was "
		    "saved\n",
		    c->name);
		r = EXIT_REFUSED;
		goto out;
	}
	if ((r = cli_session(c, &s)) != 0)
		goto out;
	r = cv_note_add(s, pos[0], text, len, kind, date, &id);
	cv_session_close(s);
	if (r != 0) {
		r = cli_fail(c, r);
		goto out;
	}
	if (c->json)
		r = cli_out(c,
		    json_pack(
		        "{s:s, s:I}", "case", pos[0], "record", (json_int_t)id),
		    NULL);
	else
		printf("%u\n", (unsigned)id);
out:
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	return r;
}

static void
notes_human(struct cli *c, const json_t *j)
{
	const json_t *rec, *data;
	size_t i;

	(void)c;
	if (json_array_size(j) == 0) {
		printf("no notes\n");
		return;
	}
	json_array_foreach (j, i, rec) {
		data = json_object_get(rec, "data");
		printf("%s--- note %lld  %s  %s  author u%lld\n", i ? "\n" : "",
		    (long long)json_integer_value(
		        json_object_get(rec, "record")),
		    json_string_value(json_object_get(data, "session_date"))
		        ? json_string_value(
		              json_object_get(data, "session_date"))
		        : "-",
		    json_string_value(json_object_get(data, "kind"))
		        ? json_string_value(json_object_get(data, "kind"))
		        : "-",
		    (long long)json_integer_value(
		        json_object_get(rec, "author")));
		if (json_is_string(json_object_get(data, "text")))
			printf("%s\n",
			    json_string_value(json_object_get(data, "text")));
	}
}

static int
cmd_note_show(struct cli *c, int argc, char **argv)
{
	return cli_case_query(c, argc, argv, cv_note_show, notes_human);
}

static void
assess_human(struct cli *c, const json_t *j)
{
	const char *sev = json_string_value(json_object_get(j, "severity"));
	const char *sev_id =
	    json_string_value(json_object_get(j, "severity_id"));

	printf("record   %lld\n",
	    (long long)json_integer_value(json_object_get(j, "record")));
	printf("total    %lld\n",
	    (long long)json_integer_value(json_object_get(j, "total")));
	printf("severity %s\n",
	    c->lang != NULL && strcmp(c->lang, "id") == 0 && sev_id != NULL
	        ? sev_id
	        : sev ? sev
	              : "-");
}

static int
cmd_assess(struct cli *c, int argc, char **argv)
{
	const char *file = NULL, *pos[2];
	struct cli_opt o[] = {{"file", 'f', &file, NULL}, {0}};
	struct cv_session *s;
	json_t *answers, *result;
	uint32_t id;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 2, 2, &n)) != 0)
		return r;
	if ((r = cli_read_json(c, file, &answers)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0) {
		json_decref(answers);
		return r;
	}
	r = cv_assess(s, pos[0], pos[1], answers, &result, &id);
	json_decref(answers);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	json_object_set_new(result, "case", json_string(pos[0]));
	json_object_set_new(result, "record", json_integer(id));
	return cli_out(c, result, assess_human);
}

static int
cmd_case_step(struct cli *c, int argc, char **argv)
{
	const char *reason = NULL, *pos[2];
	struct cli_opt o[] = {{"reason", 'r', &reason, NULL}, {0}};
	struct cv_session *s;
	int n, r;

	if ((r = cli_parse(c, argc, argv, o, pos, 2, 2, &n)) != 0)
		return r;
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_case_step(s, pos[0], pos[1], reason);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (c->json)
		return cli_out(c,
		    json_pack("{s:s, s:s}", "case", pos[0], "step", pos[1]),
		    NULL);
	printf("%s is now at %s\n", pos[0], pos[1]);
	return EXIT_OK;
}

static void
cell_print(const char *name, const json_t *cell)
{
	const json_t *p = json_object_get(cell, "percent");
	char num[24], den[24], pct[24];

	if (json_is_true(json_object_get(cell, "suppressed")) ||
	    !json_is_integer(json_object_get(cell, "denominator")))
		snprintf(den, sizeof(den), "*");
	else
		snprintf(den, sizeof(den), "%lld",
		    (long long)json_integer_value(
		        json_object_get(cell, "denominator")));
	if (!json_is_integer(json_object_get(cell, "numerator")))
		snprintf(num, sizeof(num), "*");
	else
		snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(
		        json_object_get(cell, "numerator")));
	if (json_is_number(p))
		snprintf(pct, sizeof(pct), "%.1f", json_number_value(p));
	else
		snprintf(pct, sizeof(pct), "%s",
		    json_is_true(json_object_get(cell, "suppressed")) ||
		            strcmp(num, "*") == 0
		        ? "*"
		        : "-");
	printf("  %-14s %10s %12s %8s\n", name, num, den, pct);
}

static void
indicator_human(struct cli *c, const json_t *j)
{
	const json_t *p = json_object_get(j, "percent"), *cell;
	const char *k;

	(void)c;
	printf("Coverage of social rehabilitation by trained officers, %lld\n",
	    (long long)json_integer_value(json_object_get(j, "year")));
	printf("numerator    %lld\n",
	    (long long)json_integer_value(json_object_get(j, "numerator")));
	printf("denominator  %lld\n",
	    (long long)json_integer_value(json_object_get(j, "denominator")));
	if (json_is_number(p))
		printf("percent      %.1f\n", json_number_value(p));
	else
		printf("percent      - (no survivor handled)\n");
	printf("\n  %-14s %10s %12s %8s\n", "age group", "numerator",
	    "denominator", "percent");
	json_object_foreach (
	    (json_t *)json_object_get(j, "by_age_group"), k, cell)
		cell_print(k, cell);
	printf("\n  %-14s %10s %12s %8s\n", "violence", "numerator",
	    "denominator", "percent");
	json_object_foreach (
	    (json_t *)json_object_get(j, "by_violence"), k, cell)
		cell_print(k, cell);
	printf("\n* suppressed: a small count that could point at someone\n");
}

static int
cmd_report_indicator(struct cli *c, int argc, char **argv)
{
	const char *year = NULL, *pos[1];
	int csv = 0, n, r;
	struct cli_opt o[] = {
	    {"year", 'y', &year, NULL}, {"csv", 0, NULL, &csv}, {0}};
	struct cv_session *s;
	unsigned y;
	json_t *out;
	char *text;

	if ((r = cli_parse(c, argc, argv, o, pos, 0, 0, &n)) != 0)
		return r;
	if (year == NULL || (y = cli_number(year)) < 1900 || y > 9999)
		return cli_usage(c, "--year YEAR (1900-9999) is required");
	if (csv && c->json)
		return cli_usage(c, "--csv and --json exclude each other");
	if ((r = cli_session(c, &s)) != 0)
		return r;
	r = cv_report_indicator(s, (int)y, &out);
	cv_session_close(s);
	if (r != 0)
		return cli_fail(c, r);
	if (csv) {
		text = cv_indicator_csv(out);
		json_decref(out);
		if (text == NULL) {
			fprintf(
			    stderr, "casevault %s: out of memory\n", c->name);
			return EXIT_REFUSED;
		}
		fputs(text, stdout);
		free(text);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_REFUSED;
	}
	return cli_out(c, out, indicator_human);
}

/*
 * The case-work part of `case show` (step, timeline, assessments) in the
 * language of --lang (English by default). Called by the case printer.
 */
void cli_casework_print(struct cli *c, const json_t *show);

static const char *
label_in(const struct cli *c, const json_t *label, const char *fallback)
{
	const char *l = json_string_value(json_object_get(label,
	    c->lang != NULL && strcmp(c->lang, "id") == 0 ? "id" : "en"));

	return l != NULL ? l : fallback != NULL ? fallback : "-";
}

void
cli_casework_print(struct cli *c, const json_t *show)
{
	const int id = c->lang != NULL && strcmp(c->lang, "id") == 0;
	const json_t *e, *series, *res;
	const char *k, *reason;
	size_t i;

	if (json_is_string(json_object_get(show, "step")))
		printf("%-10s %s\n", id ? "tahap" : "step",
		    label_in(c, json_object_get(show, "step_label"),
		        json_string_value(json_object_get(show, "step"))));
	if (json_array_size(json_object_get(show, "timeline")) > 0)
		printf("%s:\n", id ? "riwayat" : "timeline");
	json_array_foreach (json_object_get(show, "timeline"), i, e) {
		printf("  %-24.24s %s",
		    json_string_value(json_object_get(e, "at")),
		    label_in(c, json_object_get(e, "label"), NULL));
		if (json_is_integer(json_object_get(e, "record")))
			printf(" (record %lld)",
			    (long long)json_integer_value(
			        json_object_get(e, "record")));
		if (json_is_string(json_object_get(e, "by")))
			printf(
			    " %s", json_string_value(json_object_get(e, "by")));
		if ((reason = json_string_value(
		         json_object_get(e, "reason"))) != NULL)
			printf(": %s", reason);
		printf("\n");
	}
	if (json_object_size(json_object_get(show, "assessments")) > 0)
		printf("%s:\n", id ? "asesmen" : "assessments");
	json_object_foreach (
	    (json_t *)json_object_get(show, "assessments"), k, series) {
		printf("  %s:", k);
		json_array_foreach (json_object_get(series, "results"), i, res)
			printf("%s %lld (%s)", i ? "," : "",
			    (long long)json_integer_value(
			        json_object_get(res, "total")),
			    json_string_value(json_object_get(
			        res, id ? "severity_id" : "severity"))
			        ? json_string_value(json_object_get(
			              res, id ? "severity_id" : "severity"))
			        : "-");
		if (json_is_true(json_object_get(series, "worsened")))
			printf("  %s", id ? "MEMBURUK" : "WORSENED");
		printf("\n");
	}
}

const struct cli_cmd cli_cmds_casework[] = {
    {"note", "add", cmd_note_add,
        "note add CASE [--kind K] [--date YYYY-MM-DD] [--edit]",
        "Write a counselling note; prints its record id.",
        "The text is read from standard input. When standard input is a\n"
        "terminal, or with --edit, $EDITOR (vi when unset) opens a new\n"
        "file in a private directory (mode 0700, file 0600); when the\n"
        "editor exits, the file and anything the editor left beside it\n"
        "are overwritten with zeros, flushed and removed, whatever\n"
        "happened. An empty note is refused.\n"
        "\n"
        "K is the kind of session: initial, follow_up (the default),\n"
        "crisis, family, group, spiritual or closing. --date is the\n"
        "session date (default: today, UTC); it may not lie in the\n"
        "future. The note is a record of type note (docs/records.md):\n"
        "its text and kind are class counseling_note, which only the\n"
        "counsellors on the case team read, and others only under a\n"
        "consent that names it."},
    {"note", "show", cmd_note_show, "note show CASE",
        "Show the counselling notes of a case.",
        "Refused, and recorded in the audit trail as refused, for a\n"
        "user whose role or need-to-know does not cover counseling_note\n"
        "(for example a social worker). Each note shown is its own\n"
        "audited read. --json gives the records as record show does."},
    {"assess", NULL, cmd_assess,
        "assess CASE hamd|hama|mmse --file ANSWERS.json",
        "Score an assessment and store it; prints total and severity.",
        "ANSWERS.json is {\"items\": [N, ...]}: one integer score per item\n"
        "in the instrument's order (docs/assessments.md): hamd (HAM-D-17,\n"
        "17 items), hama (HAM-A, 14 items), mmse (MMSE, 11 sections).\n"
        "A wrong number of items, an item out of its range or anything\n"
        "but integers is refused with the item and the rule, and nothing\n"
        "is stored. Otherwise the scored result (items, total, severity\n"
        "band, instrument version, date) is stored as a record of type\n"
        "assessment. --json prints it with \"total\" and \"severity\";\n"
        "--lang id prints the Indonesian severity label."},
    {"case", "step", cmd_case_step, "case step CASE STEP [--reason TEXT]",
        "Move a case to a step of the service flow.",
        "STEP is one of referral_received, initial_counselling,\n"
        "schedule_agreed, family_tracing, safe_house, further_counselling,\n"
        "interventions, followup_recommendation, closed\n"
        "(docs/service-flow.md). A required step cannot be skipped: the\n"
        "refusal names the step that must come first. Closing before the\n"
        "follow-up recommendation needs --reason; moving to closed closes\n"
        "the case and needs the right to close it. The reason is kept in\n"
        "the sealed case metadata and shown in the case timeline; it never\n"
        "enters the audit trail. At most 500 bytes, no control characters."},
    {"report", "indicator", cmd_report_indicator,
        "report indicator --year YEAR [--csv|--json]",
        "The coverage indicator for YEAR (supervisors).",
        "Satu Data indicator 350: the percentage of women and child\n"
        "survivors handled in YEAR who received at least one social\n"
        "rehabilitation service from a trained officer, with breakdowns\n"
        "by age group and violence type; small cells are suppressed\n"
        "(docs/indicator.md). Counts only: no case, name or date leaves\n"
        "the vault. The production of the report is recorded in the audit\n"
        "trail. --csv prints CSV for publication, --json the full\n"
        "result."},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
