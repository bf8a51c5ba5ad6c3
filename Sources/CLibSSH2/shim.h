// The libssh2 C API as Swift sees it. Swift does not import libssh2's function-like macros
// (libssh2_session_init, libssh2_channel_read, ...), so each one we use gets a static inline twin here.
#ifndef SSHCC_CLIBSSH2_SHIM_H
#define SSHCC_CLIBSSH2_SHIM_H

#include <string.h>
#include <libssh2.h>
#include <libssh2_publickey.h>

/// What the server said when it ended the connection with SSH_MSG_DISCONNECT (`received` is 0 until it does).
/// A login the server ends on purpose (sshd's "Too many authentication failures") is told apart this way from
/// a connection that broke.
typedef struct {
    int received;
    int reason;
    char message[256];
} sshcc_disconnect_note;

static void sshcc_note_disconnect(LIBSSH2_SESSION *s, int reason, const char *message, int message_len,
                                  const char *language, int language_len, void **abstract) {
    (void)s;
    (void)language;
    (void)language_len;
    sshcc_disconnect_note *note = (sshcc_disconnect_note *)*abstract;
    if (!note) return;
    size_t length = message && message_len > 0 ? (size_t)message_len : 0;
    if (length >= sizeof(note->message)) length = sizeof(note->message) - 1;
    if (length) memcpy(note->message, message, length);
    note->message[length] = 0;
    note->reason = reason;
    note->received = 1;
}

/// A session whose DISCONNECT message, if the server sends one, lands in `note`.
static inline LIBSSH2_SESSION *sshcc_session_init(sshcc_disconnect_note *note) {
    LIBSSH2_SESSION *s = libssh2_session_init_ex(NULL, NULL, NULL, note);
    if (s) libssh2_session_callback_set(s, LIBSSH2_CALLBACK_DISCONNECT, (void *)sshcc_note_disconnect);
    return s;
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
