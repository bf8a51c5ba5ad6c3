// A compile job's process: started with its limits, its own process group and, where the kernel has Landlock,
// its sandbox; see include/cjobsandbox.h. The child shares our memory until it execs (CLONE_VM|CLONE_VFORK,
// as posix_spawn does): a fork would copy sshccd's page tables only for exec to throw them away, ~0.6 ms of
// CPU per step. It therefore makes system calls only, on a stack of its own, with every signal blocked until
// it has put the handlers back to their defaults (a handler of ours must not run in it).
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sys/wait.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "cjobsandbox.h"

static void set_limit(int resource, long long value) {
    if (value <= 0) return;
    struct rlimit limit = {(rlim_t)value, (rlim_t)value};
    if (resource == RLIMIT_CPU) limit.rlim_max = (rlim_t)value + 1;  // SIGXCPU first, SIGKILL a second later
    setrlimit(resource, &limit);
}

// Landlock's ABI, spelled out here: the build machine's kernel headers may predate the fields used.
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
enum {
    LL_EXECUTE = 1 << 0, LL_WRITE_FILE = 1 << 1, LL_READ_FILE = 1 << 2, LL_READ_DIR = 1 << 3,
    LL_FS_V1 = (1 << 13) - 1,  // execute … make_sym
    LL_REFER = 1 << 13, LL_TRUNCATE = 1 << 14, LL_IOCTL_DEV = 1 << 15,
    LL_NET_BIND_TCP = 1 << 0, LL_NET_CONNECT_TCP = 1 << 1,
    LL_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0, LL_SCOPE_SIGNAL = 1 << 1,
    LL_RULE_PATH_BENEATH = 1, LL_CREATE_RULESET_VERSION = 1 << 0,
};
struct ll_ruleset_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct ll_path_beneath { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));

int sshcc_landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return abi > 0 ? (int)abi : 0;
}

static int allow(int ruleset, const char *path, uint64_t rights, uint64_t handled) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return 0;  // a default path this machine lacks
    struct stat info;
    if (fstat(fd, &info) == 0 && !S_ISDIR(info.st_mode))
        rights &= LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV;
    struct ll_path_beneath rule = {rights & handled, fd};
    long result = syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
    close(fd);
    return result == 0 ? 0 : errno;
}

// In the child, before exec: `readable` (NULL-terminated) may be read and executed, `job_dir` used freely.
// Returns 0 or an errno.
static int enter_sandbox(char *const readable[], const char *job_dir) {
    int abi = sshcc_landlock_abi();
    if (abi < 1) return ENOSYS;
    struct ll_ruleset_attr attr = {LL_FS_V1, 0, 0};
    size_t size = sizeof attr.handled_access_fs;
    if (abi >= 2) attr.handled_access_fs |= LL_REFER;
    if (abi >= 3) attr.handled_access_fs |= LL_TRUNCATE;
    if (abi >= 4) {
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        size = 2 * sizeof(uint64_t);
    }
    if (abi >= 5) attr.handled_access_fs |= LL_IOCTL_DEV;
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        size = sizeof attr;
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) return errno;
    uint64_t handled = attr.handled_access_fs;
    int error = 0;
    for (char *const *path = readable; *path && !error; path++)
        error = allow(ruleset, *path, LL_EXECUTE | LL_READ_FILE | LL_READ_DIR, handled);
    if (!error) error = allow(ruleset, "/dev/null", LL_READ_FILE | LL_WRITE_FILE, handled);
    if (!error) error = allow(ruleset, job_dir, handled, handled);
    if (!error && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) error = errno;
    if (!error && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) error = errno;
    close(ruleset);
    return error;
}

// In the child, before exec (only async-signal-safe calls): its own process group, death with the parent,
// default signals, stdio, the working directory, the limits, no core files, the sandbox. Returns 0 or an errno.
static int enter_job(const char *directory, int in_fd, int out_fd, int err_fd,
                     const struct sshcc_limits *limits, char *const readable[]) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct sigaction fallback = {0};
    fallback.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction current;
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &current) == 0 &&
            current.sa_handler != SIG_DFL)
            sigaction(sig, &fallback, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int input = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (input < 0 || dup2(input, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 ||
        (directory && chdir(directory) != 0))
        return errno;
    set_limit(RLIMIT_CPU, limits->cpu_seconds);
    set_limit(RLIMIT_AS, limits->address_space);
    set_limit(RLIMIT_FSIZE, limits->file_size);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    return readable ? enter_sandbox(readable, directory) : 0;
}

struct job_start {
    const char *path, *directory;
    char *const *argv, *const *envp, *const *readable;
    int in_fd, out_fd, err_fd, report;
    const struct sshcc_limits *limits;
};

static int start_job(void *argument) {
    const struct job_start *job = argument;
    int error = enter_job(job->directory, job->in_fd, job->out_fd, job->err_fd, job->limits, job->readable);
    if (!error) {
        execve(job->path, job->argv, job->envp);
        error = errno;
    }
    (void)!write(job->report, &error, sizeof error);
    _exit(127);
}

int sshcc_spawn_limited(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                        const char *directory, int in_fd, int out_fd, int err_fd,
                        const struct sshcc_limits *limits, char *const readable[]) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    const size_t stack_size = 256 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return error;
    }
    struct job_start job = {path, directory, argv, envp, readable, in_fd, out_fd, err_fd, report[1], limits};
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    // The parent waits here until the child has exec'd or exited (CLONE_VFORK): the stack is free after.
    pid_t child = clone(start_job, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &job);
    int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    munmap(stack, stack_size);
    if (child < 0) {
        close(report[0]);
        close(report[1]);
        return clone_error;
    }
    close(report[1]);
    setpgid(child, child);  // also here: whichever runs first, the group exists before we may kill it
    int error = 0;
    ssize_t n;
    do { n = read(report[0], &error, sizeof error); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof error) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return error;
    }
    *pid = child;
    return 0;
}
