// One SSH connection to a host and the channels on it, each running one sshccd that serves jobs back to
// back (LiveChannel). Everything here is non-blocking and runs on the host driver's thread: `service` opens
// channels, moves every channel's bytes as far as they go without waiting, keeps the connection alive and
// reports what happened. The half-sent packet rule (Docs/protocol.md): when a step leaves a packet
// half-sent, that step alone is repeated until it completes.

import CompileCore
import DistccWire
import MuxCore
import POSIXSupport
import SSH
import WireCompression

/// What `ChannelEngine.service` reports to its driver.
enum ConnectionEvent {
    /// `load`: what the server said with the reply (protocol 6); `hostNanoseconds`: from the request's last
    /// byte to the reply's.
    case succeeded(
        DaemonJob, JobResult, nanoseconds: UInt64, traffic: JobTraffic, load: ServerLoad?, hostNanoseconds: UInt64)
    /// The job's channel failed; `ChannelFault.charge` says whether the host is to blame.
    case jobFailed(DaemonJob, ChannelFault)
    /// The server closed the channel on a compressed request without answering: an sshccd older than its
    /// version (or one started with `--protocols 1`). The job can go again in an older version.
    case versionRefused(DaemonJob, version: DistccVersion)
    /// A question (protocol 7) was answered `NEED` `seconds` after it went: a round trip of the link.
    case sourceNeeded(seconds: Double)
    /// The server refused another channel (MaxSessions): this connection is full.
    case full
    /// A channel could not start the sshcc subsystem: a host configuration problem.
    case hostRefused(SSHCCFailure)
}

/// The connection broke: every job on it must go elsewhere.
struct ConnectionLost: Error {
    var failure: SSHCCFailure
}

final class ChannelEngine {
    enum Pending {
        case open
        case channel(LiveChannel)
    }

    /// Opening one more channel: the open request, then the subsystem start on the new channel.
    enum Opening {
        case none
        case requested
        case starting(Channel)
    }

    let session: Session
    let spec: HostSpec
    let ioTimeout: Double
    var channels: [LiveChannel] = []
    var opening = Opening.none
    /// A step that left a packet half-sent; it must be repeated before anything else is sent.
    var pending: Pending?
    var full = false
    var nextKeepalive: UInt64 = 0

    init(session: Session, spec: HostSpec, ioTimeout: Double, keepalive: (interval: Int32, deadAfter: Int32)) {
        self.session = session
        self.spec = spec
        self.ioTimeout = ioTimeout
        session.enableKeepalive(interval: keepalive.interval, deadAfter: keepalive.deadAfter)
    }

    var busyCount: Int { channels.filter(\.life.isBusy).count }
    /// Channels that take jobs now or later.
    var usableCount: Int { channels.filter { !$0.life.retiring }.count }
    /// A channel free for a job, unless a half-sent packet holds the session.
    var readyChannel: LiveChannel? { pending == nil ? channels.first(where: \.life.isReady) : nil }
    var isOpening: Bool {
        if case .none = opening { return false }
        return true
    }

    /// Starts `job` on `channel` (which must be ready) in protocol `version`; the first bytes go out on the
    /// next service. The head goes out even while the wrapper is still preprocessing: sshccd gets the
    /// compiler ready meanwhile.
    /// `ask`: what the link has shown so far and SSHCC_ASK, for a job that may ask for its result first.
    func start(
        _ job: DaemonJob, on channel: LiveChannel, version: DistccVersion,
        ask: (link: AskFirst, mode: AskFirst.Mode)? = nil
    ) {
        channel.start(
            job, head: HostRequest.head(job.arguments, for: spec, version: version, toolchain: job.toolchain),
            version: version, ask: version.asksFirst ? ask : nil,
            now: Monotonic.nanoseconds())
    }

    /// Begins opening one more channel (one open at a time per session).
    func beginOpening() {
        guard !isOpening, !full else { return }
        opening = .requested
    }

    /// Advances everything that can advance without waiting.
    func service(_ buffer: UnsafeMutableRawBufferPointer) throws(ConnectionLost) -> [ConnectionEvent] {
        var events: [ConnectionEvent] = []
        if let step = pending {
            pending = nil
            switch step {
            case .open: try advanceOpening(&events)
            case .channel(let live): try advance(live, buffer, &events)
            }
            if pending != nil { return events }
        }
        for live in channels {
            try advance(live, buffer, &events)
            if pending != nil { return events }
        }
        channels.removeAll { $0.life.phase == .retired }
        if isOpening { try advanceOpening(&events) }
        if pending == nil { try keepAliveIfIdle() }
        return events
    }

    /// The connection broke: every job on it fails, charged to its channel.
    func lost(_ failure: SSHCCFailure) -> [ConnectionEvent] {
        defer { channels.removeAll() }
        return channels.flatMap { $0.events(for: $0.life.connectionLost(failure.summary)) }
    }

    /// Jobs that made no progress within the I/O timeout fail; their channels are retired.
    func expireStalledJobs() -> [ConnectionEvent] {
        let now = Monotonic.nanoseconds()
        return channels.flatMap { $0.events(for: $0.life.tick(now: now, timeout: UInt64(ioTimeout * 1e9))) }
    }

    /// Marks the session's current step as pending when libssh2 left a packet half-sent.
    private func holdIfHalfSent(_ step: Pending) {
        if session.isBlockedOutbound { pending = step }
    }

    private func lost(_ error: SSHError) -> ConnectionLost {
        ConnectionLost(failure: SSHCCFailure(.connectFailed, "connection to \(spec) broke: \(error)"))
    }

    // MARK: Opening channels

    private func advanceOpening(_ events: inout [ConnectionEvent]) throws(ConnectionLost) {
        if case .requested = opening {
            switch session.tryOpenChannel() {
            case .done(let channel): opening = .starting(channel)
            case .again:
                holdIfHalfSent(.open)
                return
            case .failed(let error):
                opening = .none
                guard error.isChannelRefused else { throw lost(error) }
                full = true
                events.append(.full)
                return
            }
        }
        guard case .starting(let channel) = opening else { return }
        switch spec.runsStockDistccd ? channel.tryExec(distccdCommand) : channel.tryStartSubsystem(subsystemName) {
        case .done:
            opening = .none
            channels.append(LiveChannel(channel, servesOneJob: spec.runsStockDistccd))
        case .again:
            holdIfHalfSent(.open)
        case .failed(let error):
            opening = .none
            guard error.isRequestDenied else { throw lost(error) }
            events.append(.hostRefused(HostLogin.noSubsystem(spec)))
        }
    }

    // MARK: Jobs

    /// One channel's step; a half-sent packet holds the session until that channel steps again.
    private func advance(
        _ live: LiveChannel, _ buffer: UnsafeMutableRawBufferPointer, _ events: inout [ConnectionEvent]
    ) throws(ConnectionLost) {
        let session = session
        do {
            let halfSent = try live.step(buffer, &events) { session.isBlockedOutbound }
            if halfSent { pending = .channel(live) }
        } catch {
            throw lost(error)
        }
    }

    // MARK: Keepalive

    /// Keepalives go out only while the connection is idle: then nothing can be half-sent, and a busy
    /// connection proves itself alive with job traffic (TCP_USER_TIMEOUT catches a silent peer).
    private func keepAliveIfIdle() throws(ConnectionLost) {
        let now = Monotonic.nanoseconds()
        guard now >= nextKeepalive, busyCount == 0, !isOpening else { return }
        switch session.sendKeepaliveIfDue() {
        case .done(let seconds): nextKeepalive = now + UInt64(max(1, seconds)) * 1_000_000_000
        case .again: nextKeepalive = now + 1_000_000_000
        case .failed(let error): throw lost(error)
        }
        if session.isBlockedOutbound {
            throw ConnectionLost(failure: SSHCCFailure(.connectFailed, "connection to \(spec) is stuck"))
        }
    }

    /// Poll events for this connection's socket.
    var pollEvents: Poll.Events { session.isBlockedOutbound ? [.readable, .writable] : .readable }
}
