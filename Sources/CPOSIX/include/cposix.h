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
/// The uid of a Unix socket's peer (SO_PEERCRED), or -1.
long sshcc_peer_uid(int fd);
#endif
