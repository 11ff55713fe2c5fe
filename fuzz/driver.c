/*
 * Replays files through a libFuzzer entry point without libFuzzer, so every
 * fuzz target is built and run over its seed corpus by `make test`.
 * Usage: fuzz_x FILE...  (directories are read one level deep)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	char *buf;
	size_t len;

	if (cv_read_file(path, 1 << 20, &buf, &len) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	int i, n = 0, bad = 0;
	DIR *d;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			n++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL)
			return 1;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (cv_path(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name) != 0)
				continue;
			bad |= run_file(path);
			n++;
		}
		closedir(d);
	}
	printf("%d inputs replayed\n", n);
	return bad;
}
