// The libssh2 C API as Swift sees it. Swift does not import libssh2's function-like macros
// (libssh2_session_init, libssh2_channel_read, ...), so each one we use gets a static inline twin here.
#ifndef SSHCC_CLIBSSH2_SHIM_H
#define SSHCC_CLIBSSH2_SHIM_H

#include <string.h>
#include <libssh2.h>
#include <libssh2_publickey.h>

static inline LIBSSH2_SESSION *sshcc_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline int sshcc_session_disconnect(LIBSSH2_SESSION *s, const char *why) {
    return libssh2_session_disconnect_ex(s, SSH_DISCONNECT_BY_APPLICATION, why, "");
}

static inline LIBSSH2_CHANNEL *sshcc_channel_open_session(LIBSSH2_SESSION *s) {
    return libssh2_channel_open_ex(s, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline ssize_t sshcc_channel_read(LIBSSH2_CHANNEL *c, char *buf, size_t len) {
    return libssh2_channel_read_ex(c, 0, buf, len);
}

static inline ssize_t sshcc_channel_write(LIBSSH2_CHANNEL *c, const char *buf, size_t len) {
    return libssh2_channel_write_ex(c, 0, buf, len);
}

static inline int sshcc_userauth_publickey_fromfile(LIBSSH2_SESSION *s, const char *user, const char *pub,
                                                    const char *priv) {
    return libssh2_userauth_publickey_fromfile_ex(s, user, (unsigned int)strlen(user), pub, priv, NULL);
}

#endif
