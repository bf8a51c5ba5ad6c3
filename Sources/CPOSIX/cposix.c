// Thin C entry points for glibc's GNU extensions; see include/cposix.h.
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "cposix.h"

int sshcc_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int sshcc_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
