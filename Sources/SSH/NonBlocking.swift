// Single non-blocking steps on a session and its channels, for a loop that drives many channels at once
// (the mux daemon's host driver). Each step either finishes, says "again" (libssh2 EAGAIN: repeat the SAME
// call with the SAME arguments later), or fails. When a step says "again" while blocked outbound, a
// packet is half-sent: nothing else may be sent on the session until that step is repeated and done
// (the half-sent packet rule, Docs/protocol.md); `isBlockedOutbound` tells the driver so.

import CLibSSH2
import POSIXSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The outcome of one non-blocking libssh2 call.
public enum Attempt<Value> {
    case done(Value)
    case again
    case failed(SSHError)
}

extension Session {
    /// Repeats a non-blocking `step` until it completes, waiting on the socket in between: for a caller that
    /// drives one channel at a time (`sshcc doctor`) rather than many from a poll loop.
    public func complete<Value>(_ what: @autoclosure () -> String, by deadline: Deadline, _ step: () -> Attempt<Value>)
        throws(SSHError) -> Value
    {
        while true {
            switch step() {
            case .done(let value): return value
            case .again: try wait(deadline, what())
            case .failed(let error): throw error
            }
        }
    }

    /// The stream to sshd, waited on for `events`.
    public func pollEntry(_ events: Poll.Events) -> Poll.Entry { Poll.Entry(stream, events) }

    /// True when libssh2 waits to send: a packet is half-sent and must be finished first.
    public var isBlockedOutbound: Bool {
        libssh2_session_block_directions(raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
    }

    /// Sends SSH keepalives (with want-reply, so the server answers) and has the kernel declare the
    /// connection dead when sent data stays unacknowledged for `deadAfter` seconds (TCP_USER_TIMEOUT).
    public func enableKeepalive(interval: Int32, deadAfter: Int32) {
        libssh2_keepalive_config(raw, 1, UInt32(interval))
        var milliseconds = deadAfter * 1000
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &milliseconds, socklen_t(MemoryLayout<Int32>.size))
        var one: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sends a keepalive if one is due; returns the seconds until the next one.
    public func sendKeepaliveIfDue() -> Attempt<Int32> {
        var next: Int32 = 0
        let result = libssh2_keepalive_send(raw, &next)
        if result == LIBSSH2_ERROR_EAGAIN { return .again }
        if result < 0 { return .failed(error("send a keepalive to \(host)", .connection, code: result)) }
        return .done(next)
    }

    /// Re-arms quick ACKs before a poll (see `wait`): sshd does not set TCP_NODELAY for subsystems.
    public func armQuickAck() {
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// One step of opening a session channel. Only one open may be in progress per session.
    public func tryOpenChannel() -> Attempt<Channel> {
        if let channel = sshcc_channel_open_session(raw) { return .done(Channel(session: self, raw: channel)) }
        let code = libssh2_session_last_errno(raw)
        if code == LIBSSH2_ERROR_EAGAIN { return .again }
        return .failed(error("open a channel on \(host)", .channelOpen, code: code))
    }
}

extension Channel {
    /// One step of starting subsystem `name`.
    public func tryStartSubsystem(_ name: String) -> Attempt<Void> {
        tryStartProcess("subsystem", name, describing: "start subsystem '\(name)'")
    }

    /// One step of running `command` on the channel (an exec request, as `ssh host command` does).
    public func tryExec(_ command: String) -> Attempt<Void> {
        tryStartProcess("exec", command, describing: "run '\(command)'")
    }

    private func tryStartProcess(_ request: String, _ value: String, describing what: String) -> Attempt<Void> {
        let result = libssh2_channel_process_startup(
            raw, request, UInt32(request.utf8.count), value, UInt32(value.utf8.count))
        if result == LIBSSH2_ERROR_EAGAIN { return .again }
        if result < 0 { return .failed(session.error("\(what) on \(session.host)", .requestDenied, code: result)) }
        return .done(())
    }

    /// Writes from `bytes[offset...]`; returns how many bytes went (0 when the peer's window is full).
    public func tryWrite(_ bytes: [UInt8], from offset: Int) -> Attempt<Int> {
        let written = bytes.withUnsafeBytes { buffer in
            sshcc_channel_write(
                raw, buffer.baseAddress!.assumingMemoryBound(to: CChar.self) + offset, bytes.count - offset)
        }
        if written >= 0 { return .done(written) }
        if Int32(written) == LIBSSH2_ERROR_EAGAIN { return .again }
        return .failed(session.error("send to \(session.host)", .connection, code: Int32(written)))
    }

    /// Reads into `buffer`; `.done(0)` means end of file (sshccd exited or closed its output).
    public func tryRead(into buffer: UnsafeMutableRawBufferPointer) -> Attempt<Int> {
        let received = sshcc_channel_read(raw, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
        if received > 0 { return .done(received) }
        if received == 0 { return .done(0) }
        if Int32(received) == LIBSSH2_ERROR_EAGAIN { return libssh2_channel_eof(raw) != 0 ? .done(0) : .again }
        return .failed(session.error("receive from \(session.host)", .connection, code: Int32(received)))
    }

}

extension Channel {
    /// One step of waiting for the server's close after EOF; then sshccd's exit status (nil if none came).
    public func tryWaitClosed() -> Attempt<Int32?> {
        let result = libssh2_channel_wait_closed(raw)
        if result == LIBSSH2_ERROR_EAGAIN { return .again }
        if result < 0 { return .done(nil) }
        return .done(libssh2_channel_get_exit_status(raw))
    }
}

extension SSHError {
    /// The server refused another channel on this connection (sshd's MaxSessions).
    public var isChannelRefused: Bool { code == LIBSSH2_ERROR_CHANNEL_FAILURE }
    /// The server refused the subsystem request (no `Subsystem sshcc` line).
    public var isRequestDenied: Bool { code == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED }
    /// The failure concerns one channel only; the connection is still good.
    public var isChannelOnly: Bool {
        code == LIBSSH2_ERROR_CHANNEL_CLOSED || code == LIBSSH2_ERROR_CHANNEL_EOF_SENT
    }
}
