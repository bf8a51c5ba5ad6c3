// sshccd's compile job as a process: limits, process group and the Landlock sandbox, set up between clone
// and exec (which posix_spawn cannot do).
#ifndef SSHCC_CJOBSANDBOX_H
#define SSHCC_CJOBSANDBOX_H
#include <sys/types.h>

/// Resource limits for a spawned job; 0 means "leave as inherited".
struct sshcc_limits {
    long long cpu_seconds;    // RLIMIT_CPU (soft; the hard limit is one second later)
    long long address_space;  // RLIMIT_AS, bytes
    long long file_size;      // RLIMIT_FSIZE, bytes
};
/// The kernel's Landlock ABI version, or 0 when there is none.
int sshcc_landlock_abi(void);
/// clone (sharing memory until exec, as vfork) + exec of `path` for a job: its own process group (so the
/// whole compiler tree can be killed), SIGKILL when the parent dies, `directory` as working directory, `in_fd`
/// (-1: /dev/null), `out_fd`/`err_fd` as stdout/stderr, the limits applied before exec, default signal
/// handling. With `readable` (NULL-terminated, NULL for none) a Landlock sandbox too: those paths may be read
/// and executed, `directory` used freely, nothing else touched; no TCP, no signals or abstract sockets
/// outside. Returns 0 and the pid, or an errno (from the parent's clone or the child's failed exec or
/// sandbox).
int sshcc_spawn_limited(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                        const char *directory, int in_fd, int out_fd, int err_fd,
                        const struct sshcc_limits *limits, char *const readable[]);
#endif
