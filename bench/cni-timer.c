// bench/cni-timer.c: the timing helper of the CNI benchmark
// (bench/cni-bench-guest.sh runs it inside the icount VM, in a tmpfs chroot).
//
// Under `tests/vm/run --bench` (QEMU -icount shift=0,sleep=off -smp 1) one
// guest nanosecond of CLOCK_MONOTONIC is one executed instruction, so every
// interval printed here is an instruction count. Each interval is taken
// around fork() .. waitpid() of one plugin exec, as a container runtime runs
// it (CNI_* environment, the network configuration on stdin, the result on
// stdout); nothing of a shell is counted. Three numbers per exec:
//   NS     guest ns from fork() to waitpid(): the latency as the runtime
//          sees it; under icount executed instructions plus idle time
//          (a wait for an RCU grace period, a timer) warped over
//   CPU    the plugin's process tree's CPU time (wait4 rusage, user +
//          system, in ns at us resolution: sum_exec_runtime, instructions)
//   WEFTD  weftd's CPU time meanwhile (sum_exec_runtime from
//          /proc/$WEFTD_PID/schedstat; weftd is single-threaded), 0
//          without WEFTD_PID in the environment
// CPU + WEFTD is the instruction count of the exec; NS - CPU - WEFTD is
// idle time and kernel threads.
//
// usage:
//   cni-timer mkns DIR PREFIX N
//       create N network namespaces, bind-mounted at DIR/PREFIX0..N-1
//       (what `ip netns add` does, without one `ip` process per namespace)
//   cni-timer run N NAME:BIN:CONF[:NETNSPREFIX] ...
//       ADD pods 0..N-1 for every plugin (alternating which goes first),
//       then DEL them all the same way; one line per exec on stdout:
//         S NAME ADD|DEL INDEX NS CPU WEFTD
//       container ID bench-NAME-INDEX, netns /run/netns/PREFIXINDEX
//       (PREFIX defaults to NAME), ifname eth0, CNI_PATH /cni
//   cni-timer spawn REPS NAME VERB CONF BIN [ARG...]
//       exec BIN REPS times with CNI_COMMAND=VERB and CONF on stdin;
//       S NAME VERB INDEX NS CPU WEFTD lines (VERB VERSION: the process start cost)
//   cni-timer rpc REPS SOCKET
//       weftd's local API alone: REPS times {"op":"status"}, then REPS
//       allocate + release pairs; S rpc-status|rpc-allocate|rpc-release ...
//       lines (the connect is part of each interval, as in weft-cni)
//   cni-timer noop
//       exit 0 at once (spawn's baseline: fork + exec of a static binary)
// Exit status 1 on the first failing exec (its stdout/stderr are printed).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what);

// weftd's sum_exec_runtime (ns), or 0 when not asked for
static int weftd_fd = -1;

static uint64_t weftd_ns(void)
{
	char buf[128];
	if (weftd_fd < 0)
		return 0;
	ssize_t n = pread(weftd_fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

struct sample {
	uint64_t ns, cpu, weftd;
};

static void die(const char *what)
{
	fprintf(stderr, "cni-timer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int mkns(const char *dir, const char *prefix, int n)
{
	int orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		die("open /proc/self/ns/net");
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s%d", dir, prefix, i);
		int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0)
			die(path);
		close(fd);
		if (unshare(CLONE_NEWNET) < 0)
			die("unshare(CLONE_NEWNET)");
		if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
			die("bind-mounting the netns");
	}
	if (setns(orig, CLONE_NEWNET) < 0)
		die("setns back");
	return 0;
}

struct plugin {
	char *name, *bin, *conf, *nsprefix;
};

// A temporary file on tmpfs for the plugin's stdout and stderr, read back
// after the exec (outside the measured interval).
static int out_fd = -1;

static void dump_output(void)
{
	char buf[8192];
	ssize_t n;
	lseek(out_fd, 0, SEEK_SET);
	while ((n = read(out_fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	fputc('\n', stderr);
}

// exec one plugin: guest ns of fork..waitpid, the child's CPU, weftd's CPU
static struct sample exec_one(const char *bin, char *const argv[], char *const envp[],
			 const char *conf, int *status)
{
	int in = open(conf, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(conf);
	if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) < 0)
		die("truncating the output file");
	uint64_t w0 = weftd_ns();
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
			_exit(126);
		execve(bin, argv, envp);
		_exit(127);
	}
	struct rusage ru;
	if (wait4(pid, status, 0, &ru) < 0)
		die("wait4");
	uint64_t t1 = now_ns();
	uint64_t w1 = weftd_ns();
	close(in);
	struct sample r = {t1 - t0,
			   ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
				   ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull,
			   w1 - w0};
	return r;
}

static void print_sample(const char *name, const char *verb, int i, struct sample s)
{
	printf("S %s %s %d %llu %llu %llu\n", name, verb, i, (unsigned long long)s.ns,
	       (unsigned long long)s.cpu, (unsigned long long)s.weftd);
}

static void run_plugin(const struct plugin *p, const char *verb, int i)
{
	char id[256], netns[512], cargs[512], cmd[64];
	char e_cmd[80], e_id[300], e_ns[600], e_args[600];
	snprintf(cmd, sizeof cmd, "%s", verb);
	snprintf(id, sizeof id, "bench-%s-%d", p->name, i);
	snprintf(netns, sizeof netns, "/run/netns/%s%d", p->nsprefix, i);
	snprintf(cargs, sizeof cargs,
		 "IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod-%d;"
		 "K8S_POD_INFRA_CONTAINER_ID=%s", i, id);
	snprintf(e_cmd, sizeof e_cmd, "CNI_COMMAND=%s", cmd);
	snprintf(e_id, sizeof e_id, "CNI_CONTAINERID=%s", id);
	snprintf(e_ns, sizeof e_ns, "CNI_NETNS=%s", netns);
	snprintf(e_args, sizeof e_args, "CNI_ARGS=%s", cargs);
	char *envp[] = {e_cmd, e_id, e_ns, "CNI_IFNAME=eth0", e_args, "CNI_PATH=/cni",
			"PATH=/cni:/bin", NULL};
	char *argv[] = {p->bin, NULL};
	int status;
	struct sample ns = exec_one(p->bin, argv, envp, p->conf, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "cni-timer: %s %s %d failed (status 0x%x):\n", p->name, verb, i,
			status);
		dump_output();
		printf("FAIL %s %s %d\n", p->name, verb, i);
		fflush(stdout);
		exit(1);
	}
	print_sample(p->name, verb, i, ns);
}

static int run(int n, int np, struct plugin *ps)
{
	static const char *verbs[] = {"ADD", "DEL"};
	for (int v = 0; v < 2; v++) {
		for (int i = 0; i < n; i++) {
			// Alternate which plugin goes first: neither always
			// follows the other's leftovers.
			for (int k = 0; k < np; k++)
				run_plugin(&ps[(i + k) % np], verbs[v], i);
			if ((i + 1) % 100 == 0) {
				fprintf(stderr, "# cni-timer: %s %d/%d\n", verbs[v], i + 1, n);
				fflush(stdout);
			}
		}
	}
	fflush(stdout);
	return 0;
}

static int spawn(int reps, const char *name, const char *verb, const char *conf, char **argv)
{
	char e_cmd[80];
	snprintf(e_cmd, sizeof e_cmd, "CNI_COMMAND=%s", verb);
	char *envp[] = {e_cmd, "CNI_PATH=/cni", "PATH=/cni:/bin", NULL};
	for (int i = 0; i < reps; i++) {
		int status;
		struct sample ns = exec_one(argv[0], argv, envp, conf, &status);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "cni-timer: %s %s failed (status 0x%x):\n", name, verb,
				status);
			dump_output();
			return 1;
		}
		print_sample(name, verb, i, ns);
	}
	fflush(stdout);
	return 0;
}

// one request/response on a fresh connection, as weft-cni's WeftdClient does
static struct sample rpc_one(const char *path, const char *req, char *resp, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	uint64_t w0 = weftd_ns();
	uint64_t t0 = now_ns();
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die(path);
	size_t len = strlen(req);
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		die("send");
	size_t got = 0;
	for (;;) {
		ssize_t r = recv(fd, resp + got, cap - 1 - got, 0);
		if (r <= 0)
			die("recv");
		got += (size_t)r;
		if (memchr(resp, '\n', got) || got == cap - 1)
			break;
	}
	close(fd);
	uint64_t t1 = now_ns();
	uint64_t w1 = weftd_ns();
	resp[got] = 0;
	struct sample r = {t1 - t0, 0, w1 - w0};
	return r;
}

static int rpc(int reps, const char *path)
{
	char req[512], resp[65536];
	for (int i = 0; i < reps; i++) {
		struct sample ns = rpc_one(path, "{\"op\":\"status\"}\n", resp, sizeof resp);
		print_sample("rpc-status", "RPC", i, ns);
	}
	for (int i = 0; i < reps; i++) {
		snprintf(req, sizeof req,
			 "{\"op\":\"allocate\",\"container_id\":\"bench-rpc-%d\",\"ifname\":\"eth0\"}\n",
			 i);
		struct sample ns = rpc_one(path, req, resp, sizeof resp);
		if (strstr(resp, "\"error\"")) {
			fprintf(stderr, "cni-timer: allocate: %s", resp);
			return 1;
		}
		print_sample("rpc-allocate", "RPC", i, ns);
		snprintf(req, sizeof req,
			 "{\"op\":\"release\",\"container_id\":\"bench-rpc-%d\",\"ifname\":\"eth0\"}\n",
			 i);
		ns = rpc_one(path, req, resp, sizeof resp);
		print_sample("rpc-release", "RPC", i, ns);
	}
	fflush(stdout);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: cni-timer mkns DIR PREFIX N | run N NAME:BIN:CONF[:PREFIX]... |\n"
			"       spawn REPS NAME VERB CONF BIN [ARG...] | rpc REPS SOCKET | noop\n");
	exit(2);
}

static int open_out(void)
{
	char tmpl[] = "/tmp/cni-timer.XXXXXX";
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		die("mkostemp in /tmp");
	unlink(tmpl);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "noop"))
		return 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *wp = getenv("WEFTD_PID");
	if (wp && *wp) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%s/schedstat", wp);
		weftd_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (weftd_fd < 0)
			die(path);
	}
	if (!strcmp(argv[1], "mkns") && argc == 5)
		return mkns(argv[2], argv[3], atoi(argv[4]));
	if (!strcmp(argv[1], "rpc") && argc == 4)
		return rpc(atoi(argv[2]), argv[3]);
	if (!strcmp(argv[1], "spawn") && argc >= 7) {
		out_fd = open_out();
		return spawn(atoi(argv[2]), argv[3], argv[4], argv[5], argv + 6);
	}
	if (!strcmp(argv[1], "run") && argc >= 4) {
		int np = argc - 3;
		struct plugin *ps = calloc((size_t)np, sizeof *ps);
		for (int k = 0; k < np; k++) {
			char *s = argv[3 + k];
			ps[k].name = strsep(&s, ":");
			ps[k].bin = strsep(&s, ":");
			ps[k].conf = strsep(&s, ":");
			ps[k].nsprefix = s && *s ? s : ps[k].name;
			if (!ps[k].bin || !ps[k].conf)
				usage();
		}
		out_fd = open_out();
		return run(atoi(argv[2]), np, ps);
	}
	usage();
	return 2;
}
