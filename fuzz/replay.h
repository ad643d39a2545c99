/*
 * fuzz/replay.h - the corpus walk the replay programs share (ntlm_replay.c,
 * spnego_replay.c): one file, or every file of a directory in name order
 * (dot files skipped), handed to the program's replay_file(path, name).
 * Header-only: each replay program is one translation unit with its
 * harness.  A path that cannot be read ends the program with status 1.
 */
#ifndef SSPIASYNC_FUZZ_REPLAY_H
#define SSPIASYNC_FUZZ_REPLAY_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef void (*replay_fn)(const char *path, const char *name);

static int replay_by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void replay_path(const char *path, replay_fn fn)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: not found (run from the top directory)\n", path);
		exit(1);
	}
	if (!S_ISDIR(st.st_mode)) {
		const char *slash = strrchr(path, '/');
		fn(path, slash ? slash + 1 : path);
		return;
	}
	struct dirent **v;
	int n = scandir(path, &v, NULL, replay_by_name);
	if (n < 0) {
		fprintf(stderr, "replay: scandir %s failed\n", path);
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.') {
			char p[1024];
			snprintf(p, sizeof p, "%s/%s", path, v[i]->d_name);
			fn(p, v[i]->d_name);
		}
		free(v[i]);
	}
	free(v);
}

#endif /* SSPIASYNC_FUZZ_REPLAY_H */
