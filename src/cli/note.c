/*
 * The note group: counselling notes, written on standard input or in
 * $EDITOR. The editor's file lives in a private directory and is
 * overwritten and removed on every path; the text is held in memory that
 * is wiped.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

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
	int fd, n;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			n = snprintf(
			    path, sizeof(path), "%s/%s", dir, de->d_name);
			if (n > 0 && (size_t)n < sizeof(path))
				shred(path);
		}
		closedir(d);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	rmdir(dir);
}

/*
 * Let the user write the note in $EDITOR (vi when unset). The file lives
 * in a new 0700 directory, is created 0600, and is shredded on every
 * path; the text is returned in *text (release with cli_secret_free).
 */
static int
edit_note(const struct cli *c, char **text, size_t *len)
{
	const char *tmp = getenv("TMPDIR"), *editor = getenv("EDITOR");
	char dir[4096], path[4096];
	int fd, n, status, r = EXIT_REFUSED;
	pid_t pid;

	*text = NULL;
	*len = 0;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (editor == NULL || editor[0] == '\0')
		editor = "vi";
	n = snprintf(dir, sizeof(dir), "%s/casevault-note.XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(dir) || mkdtemp(dir) == NULL) {
		fprintf(stderr,
		    "casevault %s: cannot create a private "
		    "temporary directory\n",
		    c->name);
		return EXIT_REFUSED;
	}
	n = snprintf(path, sizeof(path), "%s/note.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path) || (fd = mkstemp(path)) < 0) {
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
	if ((r = cli_read_secret(path, CV_RECORD_MAX, text, len)) != 0) {
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

int
cmd_note_add(struct cli *c)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	/* A note is a record: the library holds its text to its own limit. */
	if (c->opt[OPT_EDIT] != NULL || isatty(STDIN_FILENO)) {
		if ((r = edit_note(c, &text, &len)) != 0)
			return r;
	} else if ((r = cli_read_secret("-", CV_RECORD_MAX, &text, &len)) !=
	    0) {
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
		cli_secret_free(text);
		return EXIT_REFUSED;
	}
	/* From wiped memory to the request's string, wiped when freed. */
	cli_arg_str(c, "case", c->pos[0]);
	cli_arg(c, "text", json_stringn(text, len));
	cli_secret_free(text);
	cli_arg_str(c, "kind", c->opt[OPT_KIND]);
	cli_arg_str(c, "date", c->opt[OPT_DATE]);
	return cli_call(c, NULL, cli_print_record_id);
}

static void
notes_print(const struct cli *c, const json_t *j)
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

int
cmd_note_show(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	return cli_call(c, NULL, notes_print);
}
