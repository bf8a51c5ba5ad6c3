// GNU extensions of glibc that Swift's Glibc module does not show (it is built without _GNU_SOURCE).
#ifndef SSHCC_CPOSIX_H
#define SSHCC_CPOSIX_H
#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends close on exec, atomically (no race with a concurrent spawn).
int sshcc_pipe_cloexec(int fds[2]);
/// posix_spawn_file_actions_addchdir_np: the child starts in `path`.
int sshcc_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
#endif
