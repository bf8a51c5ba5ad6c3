// Thin C entry points for glibc's GNU extensions; see include/cposix.h.
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <errno.h>
#include <signal.h>
#include "cposix.h"

int sshcc_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int sshcc_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int sshcc_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

short sshcc_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int sshcc_accept_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }

long sshcc_peer_uid(int fd) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    return (long)credentials.uid;
}

static void set_limit(int resource, long long value) {
    if (value <= 0) return;
    struct rlimit limit = {(rlim_t)value, (rlim_t)value};
    if (resource == RLIMIT_CPU) limit.rlim_max = (rlim_t)value + 1;  // SIGXCPU first, SIGKILL a second later
    setrlimit(resource, &limit);
}

int sshcc_spawn_limited(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                        const char *directory, int out_fd, int err_fd, const struct sshcc_limits *limits) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    pid_t child = fork();
    if (child < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return error;
    }
    if (child == 0) {
        // Only async-signal-safe calls from here to exec.
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 ||
            (directory && chdir(directory) != 0)) {
            int error = errno;
            (void)!write(report[1], &error, sizeof error);
            _exit(127);
        }
        set_limit(RLIMIT_CPU, limits->cpu_seconds);
        set_limit(RLIMIT_AS, limits->address_space);
        set_limit(RLIMIT_FSIZE, limits->file_size);
        set_limit(RLIMIT_CORE, 0);
        execve(path, argv, envp);
        int error = errno;
        (void)!write(report[1], &error, sizeof error);
        _exit(127);
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

static int term_pipe_write = -1;

static void on_term(int signal_number) {
    (void)signal_number;
    int saved = errno;
    char byte = 1;
    (void)!write(term_pipe_write, &byte, 1);
    errno = saved;
}

int sshcc_term_pipe(void) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    term_pipe_write = fds[1];
    struct sigaction action = {0};
    action.sa_handler = on_term;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &action, NULL) != 0) return -1;
    // A parent may have left SIGTERM blocked (Foundation's Process does); a server must hear it.
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &term, NULL);
    return fds[0];
}
