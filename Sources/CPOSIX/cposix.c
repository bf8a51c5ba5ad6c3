// Thin C entry points for glibc's GNU extensions; see include/cposix.h.
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

int sshcc_peer_credentials(int fd, int *pid, unsigned *uid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *pid = (int)credentials.pid;
    *uid = (unsigned)credentials.uid;
    return 0;
}

int sshcc_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

static int signal_pipe_write = -1;

static void on_signal(int signal_number) {
    (void)signal_number;
    int saved = errno;
    char byte = 1;
    (void)!write(signal_pipe_write, &byte, 1);
    errno = saved;
}

int sshcc_signal_pipe(const int *signals, int count) {
    if (signal_pipe_write >= 0) { errno = EBUSY; return -1; }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    signal_pipe_write = fds[1];
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int i = 0; i < count; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
        sigaddset(&unblock, signals[i]);
    }
    // A parent may have left them blocked (Foundation's Process leaves SIGTERM blocked); a server must hear it.
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    return fds[0];
}

void sshcc_signal_pipe_ring(void) {
    char byte = 1;
    if (signal_pipe_write >= 0) (void)!write(signal_pipe_write, &byte, 1);
}

int sshcc_bind_abstract(const unsigned char *name, int length) {
    struct sockaddr_un address;
    if (length <= 0 || (size_t)length >= sizeof address.sun_path) { errno = ENAMETOOLONG; return -1; }
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path + 1, name, (size_t)length);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)length);
    if (bind(fd, (struct sockaddr *)&address, size) != 0 || listen(fd, 1) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int sshcc_contains(const void *haystack, unsigned long haystack_length, const void *needle, unsigned long needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length) != NULL;
}

int sshcc_memfd_cloexec(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
