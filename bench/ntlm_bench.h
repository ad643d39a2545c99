/*
 * bench/ntlm_bench.h - what the three NTLM benchmark programs share
 * (bench/ntlm.c, bench/ntlm_gss.c, bench/ntlm_winpr.c; each its own
 * process, so header-only): the benchmark user, failure exits, the clocks,
 * and the user file the library and gss-ntlmssp read.  Define BENCH_NAME
 * ("bench/ntlm", ...) before including it.
 */
#ifndef SSPIASYNC_BENCH_NTLM_BENCH_H
#define SSPIASYNC_BENCH_NTLM_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_DOMAIN "BENCH"
#define BENCH_USER "alice"
#define BENCH_PASSWORD "Secret1!"

static inline _Noreturn void die(const char *what)
{
	fprintf(stderr, BENCH_NAME ": %s\n", what);
	exit(2);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Process CPU time (every thread), seconds. */
static inline double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static char g_user_file[64];

static inline void remove_user_file(void)
{
	if (g_user_file[0] != '\0')
		unlink(g_user_file);
}

/* The server's user file: a few other users, then ours (a realistic file,
 * not one line), named by NTLM_USER_FILE, removed at exit. */
static inline void user_file_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(g_user_file, sizeof g_user_file, "%s/sa_bench_ntlmXXXXXX",
		 tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
	int fd = mkstemp(g_user_file);
	if (fd < 0) {
		g_user_file[0] = '\0';
		die("mkstemp (user file)");
	}
	atexit(remove_user_file);
	static const char text[] = "# bench/ntlm users\n"
				   "OTHER:bob:pw:with:colons\n"
				   ":carol:anydomain\n" BENCH_DOMAIN ":" BENCH_USER ":" BENCH_PASSWORD "\n";
	if (write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
		die("write (user file)");
	close(fd);
	if (setenv("NTLM_USER_FILE", g_user_file, 1) != 0)
		die("setenv");
}

#endif /* SSPIASYNC_BENCH_NTLM_BENCH_H */
