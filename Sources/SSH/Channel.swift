// A channel on a session: opened, given a subsystem or a command, then read and written until EOF. Holds
// its session strongly (libssh2 frees a channel's memory with the session). Calls are non-blocking
// underneath; these helpers wait on the socket until their deadline.

import CLibSSH2
import POSIXSupport

/// A session channel running one remote program.
public final class Channel {
    public let session: Session
    let raw: OpaquePointer
    private lazy var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Opens a new session channel (sshd's MaxSessions caps how many a connection may hold).
    public init(session: Session, deadline: Deadline) throws(SSHError) {
        self.session = session
        raw = try session.retryPointer("open a channel on \(session.host)", .channelOpen, deadline) {
            sshcc_channel_open_session(session.raw)
        }
    }

    /// Wraps a channel libssh2 has just opened.
    init(session: Session, raw: OpaquePointer) {
        self.session = session
        self.raw = raw
    }

    deinit {
        _ = try? session.retry("free a channel", .connection, Deadline(secondsFromNow: 1)) { libssh2_channel_free(raw) }
    }

    /// Starts the subsystem `name` (sshd_config `Subsystem NAME PROGRAM`). A server without it refuses.
    public func startSubsystem(_ name: String, deadline: Deadline) throws(SSHError) {
        try session.retry("start subsystem '\(name)' on \(session.host)", .requestDenied, deadline) {
            sshcc_channel_subsystem(raw, name, UInt32(name.utf8.count))
        }
    }

    /// Runs `command` through the remote user's shell.
    public func exec(_ command: String, deadline: Deadline) throws(SSHError) {
        try session.retry("run '\(command)' on \(session.host)", .requestDenied, deadline) {
            sshcc_channel_exec(raw, command, UInt32(command.utf8.count))
        }
    }

    /// Writes every byte. libssh2 sends at most one packet per call and may accept 0 bytes while the
    /// peer's window is full; after EAGAIN the same call is repeated with the same arguments.
    public func write(_ bytes: [UInt8], deadline: Deadline) throws(SSHError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                sshcc_channel_write(
                    raw, buffer.baseAddress!.assumingMemoryBound(to: CChar.self) + offset, bytes.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written == 0 || Int32(written) == LIBSSH2_ERROR_EAGAIN {
                try session.wait(deadline, "send to \(session.host)")
            } else {
                throw session.error("send to \(session.host)", .connection, code: Int32(written))
            }
        }
    }

    /// The next bytes from the remote program's stdout; empty at end of file.
    public func read(deadline: Deadline) throws(SSHError) -> [UInt8] {
        while true {
            let count = readBuffer.count
            let received = readBuffer.withUnsafeMutableBytes { buffer in
                sshcc_channel_read(raw, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), count)
            }
            if received > 0 { return Array(readBuffer[0..<received]) }
            if received == 0 { return [] }
            guard Int32(received) == LIBSSH2_ERROR_EAGAIN else {
                throw session.error("receive from \(session.host)", .connection, code: Int32(received))
            }
            if libssh2_channel_eof(raw) != 0 { return [] }
            try session.wait(deadline, "receive from \(session.host)")
        }
    }

    /// Tells the remote program there is no more input.
    public func sendEOF(deadline: Deadline) throws(SSHError) {
        try session.retry("send EOF to \(session.host)", .connection, deadline) { libssh2_channel_send_eof(raw) }
    }

    /// Closes the channel and returns the remote program's exit status (nil if the server sent none).
    public func close(deadline: Deadline) throws(SSHError) -> Int32? {
        try session.retry("close a channel", .connection, deadline) { libssh2_channel_close(raw) }
        try session.retry("close a channel", .connection, deadline) { libssh2_channel_wait_closed(raw) }
        return libssh2_channel_get_exit_status(raw)
    }
}
