// SPDX-License-Identifier: GPL-2.0
/*
 * tcpbench: a minimal TCP load generator for instruction-count benchmarks.
 *
 *   tcpbench server [-p PORT] [-c CPU]
 *   tcpbench client -H HOST [-p PORT] [-c CPU] -t rr|crr|stream
 *                   [-n ITERS] [-w WARMUP] [-b BYTES] [-W WARMUP_BYTES]
 *
 * The server serves one connection at a time (enough for a benchmark whose
 * client runs one connection at a time). The client's first byte on every
 * connection names the test:
 *
 *   'R' rr      the server echoes every byte it reads until EOF;
 *   'C' crr     the server answers that first byte with one byte and then
 *               waits for EOF (so a CRR iteration is connect, 1-byte
 *               exchange, close);
 *   'S' stream  the server discards everything until EOF, then writes the
 *               8-byte count of bytes it read and closes.
 *
 * The client times only the measured loop, after a warm-up, with
 * clock_gettime(CLOCK_MONOTONIC); under QEMU -icount shift=0 a guest
 * nanosecond is one executed instruction. It prints one line:
 *
 *   tcpbench test=rr iters=N ns=T per_iter_ns=X
 *   tcpbench test=stream bytes=N ns=T bits_per_1e9ns=X
 *
 * Built static (gcc -O2 -static) so that, run from a tmpfs, it touches no
 * network file system in the measured interval.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ (128 * 1024)
static char buf[BUFSZ];

static void die(const char *what)
{
	fprintf(stderr, "tcpbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
}

static void write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(fd, c, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		c += n;
		len -= n;
	}
}

/* Reads exactly @len bytes; returns 0 on EOF before that. */
static int read_all(int fd, void *p, size_t len)
{
	char *c = p;

	while (len) {
		ssize_t n = read(fd, c, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (n == 0)
			return 0;
		c += n;
		len -= n;
	}
	return 1;
}

/* ---- server ---- */

static void serve(int fd)
{
	char t;
	ssize_t n;
	uint64_t total = 0;

	if (!read_all(fd, &t, 1))
		return;
	switch (t) {
	case 'R':
		nodelay(fd);
		while ((n = read(fd, buf, BUFSZ)) > 0)
			write_all(fd, buf, n);
		break;
	case 'C':
		nodelay(fd);
		write_all(fd, &t, 1);
		while (read(fd, buf, BUFSZ) > 0)
			;
		break;
	case 'S':
		while ((n = read(fd, buf, BUFSZ)) > 0)
			total += n;
		write_all(fd, &total, sizeof(total));
		break;
	default:
		fprintf(stderr, "tcpbench: unknown test byte %d\n", t);
	}
}

static __attribute__((noreturn)) void server(int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1, zero = 0, lfd;

	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(lfd, 128))
		die("listen");
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		serve(fd);
		close(fd);
	}
}

/* ---- client ---- */

static struct sockaddr_storage peer;
static socklen_t peerlen;

static void resolve(const char *host, int port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&peer;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&peer;

	memset(&peer, 0, sizeof(peer));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		peerlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		peerlen = sizeof(*s6);
	} else {
		fprintf(stderr, "tcpbench: bad address %s\n", host);
		exit(2);
	}
}

static int dial(void)
{
	int fd = socket(peer.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&peer, peerlen))
		die("connect");
	return fd;
}

static void rr_loop(int fd, long n)
{
	char c = 'x';

	for (long i = 0; i < n; i++) {
		write_all(fd, &c, 1);
		if (!read_all(fd, &c, 1)) {
			fprintf(stderr, "tcpbench: rr: server closed\n");
			exit(1);
		}
	}
}

static void crr_once(void)
{
	int fd = dial();
	char c = 'C';

	nodelay(fd);
	write_all(fd, &c, 1);
	if (!read_all(fd, &c, 1)) {
		fprintf(stderr, "tcpbench: crr: server closed\n");
		exit(1);
	}
	close(fd);
}

static void stream_send(int fd, uint64_t bytes)
{
	while (bytes) {
		size_t chunk = bytes < BUFSZ ? bytes : BUFSZ;

		write_all(fd, buf, chunk);
		bytes -= chunk;
	}
}

static int client(const char *test, long n, long warm, uint64_t bytes,
		  uint64_t warm_bytes)
{
	uint64_t t0, t1;

	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(test, "rr")) {
		int fd = dial();
		char c = 'R';

		nodelay(fd);
		write_all(fd, &c, 1);
		rr_loop(fd, warm);
		t0 = now_ns();
		rr_loop(fd, n);
		t1 = now_ns();
		close(fd);
	} else if (!strcmp(test, "crr")) {
		for (long i = 0; i < warm; i++)
			crr_once();
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			crr_once();
		t1 = now_ns();
	} else if (!strcmp(test, "stream")) {
		int fd = dial();
		uint64_t got = 0;
		char c = 'S';

		memset(buf, 0x5a, BUFSZ);
		write_all(fd, &c, 1);
		/* Warm-up on the same connection: slow start is over and the
		 * socket buffers have grown before the clock starts.
		 */
		stream_send(fd, warm_bytes);
		t0 = now_ns();
		stream_send(fd, bytes);
		shutdown(fd, SHUT_WR);
		/* Stop the clock once the server has read everything. */
		if (!read_all(fd, &got, sizeof(got)))
			die("stream: no count from the server");
		t1 = now_ns();
		close(fd);
		if (got != bytes + warm_bytes) {
			fprintf(stderr, "tcpbench: stream: server read %llu of %llu bytes\n",
				(unsigned long long)got,
				(unsigned long long)(bytes + warm_bytes));
			return 1;
		}
		printf("tcpbench test=stream bytes=%llu ns=%llu bits_per_1e9ns=%.0f\n",
		       (unsigned long long)bytes, (unsigned long long)(t1 - t0),
		       bytes * 8.0 * 1e9 / (double)(t1 - t0));
		return 0;
	} else {
		fprintf(stderr, "tcpbench: unknown test %s\n", test);
		return 2;
	}
	printf("tcpbench test=%s iters=%ld ns=%llu per_iter_ns=%.1f\n", test, n,
	       (unsigned long long)(t1 - t0), (double)(t1 - t0) / n);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tcpbench server [-p PORT] [-c CPU]\n"
		"       tcpbench client -H HOST [-p PORT] [-c CPU] -t rr|crr|stream\n"
		"                       [-n ITERS] [-w WARMUP] [-b BYTES] [-W WARMUP_BYTES]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host = NULL, *test = NULL;
	int port = 5201, cpu = 0, opt, is_server;
	long n = 1000, warm = 100;
	uint64_t bytes = 16 << 20, warm_bytes = 4 << 20;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "server"))
		is_server = 1;
	else if (!strcmp(argv[1], "client"))
		is_server = 0;
	else
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "H:p:c:t:n:w:b:W:")) != -1) {
		switch (opt) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 't': test = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'w': warm = atol(optarg); break;
		case 'b': bytes = strtoull(optarg, NULL, 0); break;
		case 'W': warm_bytes = strtoull(optarg, NULL, 0); break;
		default: usage();
		}
	}
	pin(cpu);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (is_server)
		server(port);
	if (!host || !test || n <= 0)
		usage();
	resolve(host, port);
	return client(test, n, warm, bytes, warm_bytes);
}
