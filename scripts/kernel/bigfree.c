/*
 * bigfree: map anonymous memory with transparent huge pages off, touch every
 * page, then time the munmap(). With -f, a child process maps and touches the
 * memory and the parent times the child's exit instead. Used by the boot test
 * of the bundled series, inside a small VM with busybox.
 *
 * Two runs can be made to overlap: with BIGFREE_SIGNAL=FILE, -f creates FILE
 * once it has killed its child (its exit teardown has begun); with
 * BIGFREE_WAIT=FILE, a munmap run touches its memory, then waits for FILE
 * before it unmaps.
 *
 * usage: bigfree [-f] MIB
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *map_and_touch(size_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("bigfree: mmap");
		exit(1);
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < bytes; off += page)
		p[off] = 1;
	return p;
}

/* Wait until the file BIGFREE_WAIT names exists, if it names one. */
static void wait_for_signal(void)
{
	const char *path = getenv("BIGFREE_WAIT");

	while (path && access(path, F_OK) != 0)
		usleep(10000);
}

/* Create the file BIGFREE_SIGNAL names, if it names one. */
static void signal_others(void)
{
	const char *path = getenv("BIGFREE_SIGNAL");
	int fd;

	if (!path)
		return;
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	int exit_mode = argc > 2 && strcmp(argv[1], "-f") == 0;
	size_t mib = strtoull(argv[argc - 1], NULL, 10);
	size_t bytes = mib << 20;
	double t0, t1;

	if (argc < 2 || mib == 0) {
		fprintf(stderr, "usage: bigfree [-f] MIB\n");
		return 2;
	}
	if (exit_mode) {
		int fds[2];
		char c;
		pid_t pid;

		if (pipe(fds))
			return 1;
		pid = fork();
		if (pid == 0) {
			map_and_touch(bytes);
			write(fds[1], "x", 1);
			pause();
			_exit(0);
		}
		read(fds[0], &c, 1);
		t0 = now();
		kill(pid, SIGKILL);
		signal_others();
		waitpid(pid, NULL, 0);
		t1 = now();
		printf("bigfree: exit of %zu MiB took %.6f s\n", mib, t1 - t0);
	} else {
		char *p = map_and_touch(bytes);

		wait_for_signal();
		t0 = now();
		munmap(p, bytes);
		t1 = now();
		printf("bigfree: munmap of %zu MiB took %.6f s\n", mib, t1 - t0);
	}
	return 0;
}
