// GNU extensions of glibc that Swift's Glibc module does not show (it is built without _GNU_SOURCE).
#ifndef SSHCC_CPOSIX_H
#define SSHCC_CPOSIX_H
#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends close on exec, atomically (no race with a concurrent spawn).
int sshcc_pipe_cloexec(int fds[2]);
/// posix_spawn_file_actions_addchdir_np: the child starts in `path`.
int sshcc_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// posix_spawn_file_actions_addclosefrom_np: the child keeps no descriptor from `lowest` up.
int sshcc_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);
/// POSIX_SPAWN_SETSID: the child starts a new session (no controlling terminal, no job-control signals).
short sshcc_spawn_setsid_flag(void);
/// accept4(fd, NULL, NULL, SOCK_CLOEXEC).
int sshcc_accept_cloexec(int fd);
/// A listening Unix socket bound to the abstract name `name` (no leading NUL), or -1 (EADDRINUSE: held).
int sshcc_bind_abstract(const unsigned char *name, int length);

/// The pid and uid of a Unix socket's peer (SO_PEERCRED, taken when it connected or listened); 0 or -1.
int sshcc_peer_credentials(int fd, int *pid, unsigned *uid);
/// pidfd_open(pid, 0): a close-on-exec descriptor that polls readable when the child exits; -1 on failure
/// (a kernel before 5.3).
int sshcc_pidfd_open(pid_t pid);

/// Installs one handler for `signals` that writes a byte to a close-on-exec pipe, unblocks them, and returns
/// the pipe's read end (-1 on failure), so a poll loop notices them without races. Once per process.
int sshcc_signal_pipe(const int *signals, int count);
/// Writes that byte from the process itself (a stop asked for some other way).
void sshcc_signal_pipe_ring(void);

/// memfd_create(name, MFD_CLOEXEC): an anonymous file in memory; -1 on failure.
int sshcc_memfd_cloexec(const char *name);
/// memmem: whether `needle` occurs in `haystack` (glibc's two-way search, for megabytes of preprocessed text).
int sshcc_contains(const void *haystack, unsigned long haystack_length, const void *needle, unsigned long needle_length);
#endif
