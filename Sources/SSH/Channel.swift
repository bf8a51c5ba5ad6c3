// A channel on a session, running one remote program (the sshcc subsystem). Holds its session strongly
// (libssh2 frees a channel's memory with the session). Its operations are the non-blocking steps in
// NonBlocking.swift, driven by the mux daemon's host driver.

import CLibSSH2
import POSIXSupport

/// A session channel running one remote program.
public final class Channel {
    public let session: Session
    let raw: OpaquePointer

    /// Wraps a channel libssh2 has just opened (`Session.tryOpenChannel`).
    init(session: Session, raw: OpaquePointer) {
        self.session = session
        self.raw = raw
    }

    deinit {
        // Bounded: frees (and if needed closes) the channel, waiting at most a second on a live session.
        _ = try? session.retry("free a channel", .connection, Deadline(secondsFromNow: 1)) { libssh2_channel_free(raw) }
    }
}
