/*
 * deny_syscalls.c — runs a command with some system calls failing with an
 * errno, as a sandbox's system-call filter makes them fail, so that tests
 * can reach the fallbacks of a kernel or sandbox without them.
 *
 *   deny_syscalls ERRNO NR [NR...] -- COMMAND [ARG...]
 *
 * ERRNO is a number or EPERM, ENOSYS, EACCES; each NR a system call number.
 * A seccomp filter (inherited by every child) answers those calls with
 * -ERRNO; everything else runs as usual.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

#define MAX_DENIED 32

static int usage(void)
{
	fprintf(stderr, "usage: deny_syscalls ERRNO NR [NR...] -- COMMAND [ARG...]\n");
	return 2;
}

static int parse_errno(const char *s)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {{"EPERM", EPERM}, {"ENOSYS", ENOSYS}, {"EACCES", EACCES}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].value;
	char *end;
	long value = strtol(s, &end, 10);
	return *end || value <= 0 || value > 4095 ? -1 : (int)value;
}

int main(int argc, char **argv)
{
#ifndef ARCH
	(void)argc;
	(void)argv;
	fprintf(stderr, "deny_syscalls: this architecture is not supported\n");
	return 77;
#else
	if (argc < 5)
		return usage();
	int error = parse_errno(argv[1]);
	if (error < 0)
		return usage();
	unsigned denied[MAX_DENIED];
	int count = 0, at = 2;
	for (; at < argc && strcmp(argv[at], "--") != 0; at++) {
		char *end;
		long nr = strtol(argv[at], &end, 10);
		if (*end || nr < 0 || count == MAX_DENIED)
			return usage();
		denied[count++] = (unsigned)nr;
	}
	if (at + 1 >= argc || count == 0)
		return usage();

	struct sock_filter filter[4 + 2 * MAX_DENIED + 1];
	int n = 0;
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						   offsetof(struct seccomp_data, arch));
	filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						   offsetof(struct seccomp_data, nr));
	for (int i = 0; i < count; i++) {
		filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, denied[i], 0, 1);
		filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
							   SECCOMP_RET_ERRNO | (unsigned)error);
	}
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog program = {.len = (unsigned short)n, .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == -1) {
		perror("deny_syscalls: installing the filter");
		return 1;
	}
	execvp(argv[at + 1], argv + at + 1);
	fprintf(stderr, "deny_syscalls: %s: %s\n", argv[at + 1], strerror(errno));
	return 127;
#endif
}
