// One SSH connection to a host and the channels on it, each running one sshccd that serves jobs back to
// back. Everything here is non-blocking and runs on the host driver's thread: `service` advances every
// channel as far as it can go without waiting and reports what happened. The half-sent packet rule
// (notes): when a step leaves a packet half-sent, that step alone is repeated until it completes.

import CompileCore
import DistccWire
import MuxCore
import POSIXSupport
import SSH
import WireCompression

/// A channel with its sshccd, idle or carrying one job.
final class LiveChannel {
    enum Phase {
        case idle
        /// Sending the request; the reply may start early (a refusal), so it is read as well.
        case sending(offset: Int)
        case receiving
        /// sshccd's output ended; waiting for the close to learn its exit status.
        case closing
    }

    let channel: Channel
    var phase = Phase.idle
    var job: DaemonJob?
    /// The job's request as this channel's server reads it (compressed as the host's bodies travel).
    var request: [UInt8] = []
    /// The request's protocol version; refused by a server, it means an older one (`finishClosing`).
    var version = ProtocolVersion.plain
    /// The head has been queued but the wrapper is still preprocessing: the source's frames come later.
    var awaitingSource = false
    /// Version 5: the source's pieces queued so far, and the compressor they all go through.
    var piecesSent = 0
    var compressor: ZstdStreamCompressor?
    /// DOTC frames queued before the last piece was known (for `sshcc --status`).
    var piecesAhead = 0
    var decoder = ReplyDecoder()
    var reply: [UInt8] = []
    var started: UInt64 = 0
    var lastProgress: UInt64 = 0
    /// Once set, the channel is not given another job (it is closing, or its sshccd ended early).
    var retiring = false

    init(_ channel: Channel) { self.channel = channel }

    /// Queues what the wrapper has sent of the source: in version 5 every piece as it comes (it travels while
    /// the wrapper still preprocesses), otherwise the whole source once it is complete.
    func appendSourceIfReady() {
        guard awaitingSource, let job else { return }
        if let compressor {
            let (pieces, last) = job.pieces(from: piecesSent)
            for index in pieces.indices {
                let isLast = last && index == pieces.endIndex - 1
                let frame = WireEncoder.sourcePiece(pieces[index], last: isLast, compressor: compressor)
                if !isLast && !frame.isEmpty { piecesAhead += 1 }
                request += frame
            }
            piecesSent += pieces.count
            awaitingSource = !last
        } else if let source = job.source {
            request += WireEncoder.sourceFrame(source, version: version)
            awaitingSource = false
        }
    }

    var isBusy: Bool { job != nil }
    var isClosing: Bool {
        if case .closing = phase { return true }
        return false
    }
    /// Free for a new job.
    var isReady: Bool {
        guard case .idle = phase else { return false }
        return job == nil && !retiring
    }
}

/// What `HostConnection.service` reports to its driver.
/// A job's bytes on the channel, and what they carried before compression.
struct JobTraffic {
    var sent = 0
    var received = 0
    var rawSent = 0
    var rawReceived = 0
    /// Pieces of the source sent ahead of its end (version 5).
    var piecesAhead = 0
}

enum ConnectionEvent {
    case succeeded(DaemonJob, reply: [UInt8], nanoseconds: UInt64, traffic: JobTraffic)
    /// The job's channel failed (sshccd died, bad reply, timeout); the connection itself is fine.
    case jobFailed(DaemonJob, ClientFailure)
    /// The server closed the channel on a compressed request without answering: an sshccd older than its
    /// version (or one started with `--protocols 1`). The job can go again in an older version.
    case versionRefused(DaemonJob, version: UInt32)
    /// The server refused another channel (MaxSessions): this connection is full.
    case full
    /// A channel could not start the sshcc subsystem: a host configuration problem.
    case hostRefused(ClientFailure)
}

/// The connection broke: every job on it must go elsewhere.
struct ConnectionLost: Error {
    var failure: ClientFailure
}

final class HostConnection {
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

    var busyCount: Int { channels.filter(\.isBusy).count }
    /// A channel free for a job, unless a half-sent packet holds the session.
    var readyChannel: LiveChannel? { pending == nil ? channels.first(where: \.isReady) : nil }
    var isOpening: Bool {
        if case .none = opening { return false }
        return true
    }

    /// Starts `job` on `channel` (which must be idle) in protocol `version`; the first bytes go out on the
    /// next service.
    /// The head goes out even while the wrapper is still preprocessing: sshccd gets the compiler ready meanwhile.
    func start(_ job: DaemonJob, on channel: LiveChannel, version: UInt32) {
        let now = Monotonic.nanoseconds()
        channel.job = job
        channel.version = version
        channel.request = HostRequest.head(job.head, for: spec, version: version)
        channel.awaitingSource = true
        channel.piecesSent = 0
        channel.piecesAhead = 0
        channel.compressor = version == ProtocolVersion.zstdStreamed ? ZstdStreamCompressor() : nil
        channel.appendSourceIfReady()
        channel.phase = .sending(offset: 0)
        channel.decoder = ReplyDecoder()
        channel.reply = []
        channel.started = now
        channel.lastProgress = now
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
        channels.removeAll { $0.retiring && !$0.isBusy && !$0.isClosing }
        if isOpening { try advanceOpening(&events) }
        if pending == nil { try keepAliveIfIdle() }
        return events
    }

    /// Marks the session's current step as pending when libssh2 left a packet half-sent.
    private func holdIfHalfSent(_ step: Pending) {
        if session.isBlockedOutbound { pending = step }
    }

    private func lost(_ error: SSHError) -> ConnectionLost {
        ConnectionLost(failure: ClientFailure(.connectFailed, "connection to \(spec) broke: \(error)"))
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
            channels.append(LiveChannel(channel))
        case .again:
            holdIfHalfSent(.open)
        case .failed(let error):
            opening = .none
            guard error.isRequestDenied else { throw lost(error) }
            events.append(.hostRefused(HostConnector.noSubsystem(spec)))
        }
    }

    // MARK: Jobs

    private func advance(
        _ live: LiveChannel, _ buffer: UnsafeMutableRawBufferPointer, _ events: inout [ConnectionEvent]
    )
        throws(ConnectionLost)
    {
        if let job = live.job, job.cancelled, !session.isBlockedOutbound {
            // The wrapper's preprocessing failed: a request without its answer is on the channel, which is
            // therefore not reused.
            live.job = nil
            live.retiring = true
            live.phase = .idle
            return
        }
        live.appendSourceIfReady()
        if live.awaitingSource { live.lastProgress = Monotonic.nanoseconds() }  // preprocessing is not a stall
        if case .sending(var offset) = live.phase, live.job != nil {
            let request = live.request
            writing: while offset < request.count {
                switch live.channel.tryWrite(request, from: offset) {
                case .done(0): break writing  // the peer's window is full; reading below lets it grow
                case .done(let count):
                    offset += count
                    live.lastProgress = Monotonic.nanoseconds()
                case .again:
                    live.phase = .sending(offset: offset)
                    holdIfHalfSent(.channel(live))
                    if pending != nil { return }
                    break writing
                case .failed(let error):
                    guard error.isChannelOnly else { throw lost(error) }
                    // sshccd closed its input: it may have replied already (a refusal); read on.
                    live.retiring = true
                    offset = request.count
                }
            }
            live.phase = offset == request.count && !live.awaitingSource ? .receiving : .sending(offset: offset)
        }
        try read(live, buffer, &events)
    }

    private func read(_ live: LiveChannel, _ buffer: UnsafeMutableRawBufferPointer, _ events: inout [ConnectionEvent])
        throws(ConnectionLost)
    {
        if case .closing = live.phase { return finishClosing(live, &events) }
        while true {
            switch live.channel.tryRead(into: buffer) {
            case .again:
                holdIfHalfSent(.channel(live))
                return
            case .failed(let error):
                guard error.isChannelOnly else { throw lost(error) }
                live.phase = .closing
                return finishClosing(live, &events)
            case .done(0):
                live.phase = .closing
                live.retiring = true
                return finishClosing(live, &events)
            case .done(let count):
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                guard let job = live.job else {
                    // sshccd never speaks unasked: a channel that does is not trusted again.
                    live.retiring = true
                    continue
                }
                live.lastProgress = Monotonic.nanoseconds()
                live.reply.append(contentsOf: bytes)
                live.decoder.append(bytes)
                do {
                    if let decoded = try live.decoder.next() {
                        // A reply before the whole request went out (a refusal): sshccd is not in step
                        // with us any more, so the channel is not reused.
                        var sent = live.request.count
                        if case .sending(let offset) = live.phase {
                            sent = offset
                            live.retiring = true
                        }
                        let traffic = JobTraffic(
                            sent: sent, received: live.reply.count,
                            rawSent: job.head.count + FrameHeader.size + (job.source?.count ?? 0),
                            rawReceived: 5 * FrameHeader.size + decoded.stderr.count + decoded.stdout.count
                                + decoded.object.count, piecesAhead: live.piecesAhead)
                        events.append(
                            .succeeded(
                                job, reply: live.reply, nanoseconds: live.lastProgress - live.started, traffic: traffic)
                        )
                        live.job = nil
                        live.reply = []
                        live.request = []
                        // distccd --inetd serves one job and exits; the channel ends with it.
                        if spec.runsStockDistccd { live.retiring = true }
                        if !live.retiring { live.phase = .idle }
                    }
                } catch {
                    events.append(.jobFailed(job, ClientFailure(.protocolError, "\(spec) sent a bad reply: \(error)")))
                    live.job = nil
                    live.retiring = true
                    live.phase = .closing
                }
            }
        }
    }

    /// After sshccd's output ended: wait for the close, then fail the job it held with the reason.
    private func finishClosing(_ live: LiveChannel, _ events: inout [ConnectionEvent]) {
        let status: Int32?
        switch live.channel.tryWaitClosed() {
        case .again: return
        case .failed: status = nil
        case .done(let value): status = value
        }
        if let job = live.job, status == ExitCode.protocolError.rawValue, live.reply.isEmpty,
            live.version != ProtocolVersion.plain
        {
            // A valid compressed request is a protocol error only to a server that does not speak its version.
            events.append(.versionRefused(job, version: live.version))
            live.job = nil
        }
        if let job = live.job {
            let failure =
                status == 127
                ? HostConnector.sshccdMissing(spec)
                : ClientFailure(
                    .remoteCrashed,
                    "sshccd on \(spec) ended without replying (exit status \(status.map(String.init) ?? "unknown")); see its log on the host"
                )
            events.append(.jobFailed(job, failure))
            live.job = nil
        }
        live.retiring = true
        live.phase = .idle
    }

    /// Jobs that made no progress within the I/O timeout fail; their channels are retired.
    func expireStalledJobs() -> [ConnectionEvent] {
        let limit = UInt64(ioTimeout * 1e9)
        let now = Monotonic.nanoseconds()
        var events: [ConnectionEvent] = []
        for live in channels where live.job != nil && now - live.lastProgress > limit {
            events.append(
                .jobFailed(live.job!, ClientFailure(.connectFailed, "\(spec) made no progress in \(Int(ioTimeout)) s")))
            live.job = nil
            live.retiring = true
            live.phase = .idle
        }
        return events
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
            throw ConnectionLost(failure: ClientFailure(.connectFailed, "connection to \(spec) is stuck"))
        }
    }

    /// Poll events for this connection's socket.
    var pollEvents: Int16 { Int16(POLLIN) | (session.isBlockedOutbound ? Int16(POLLOUT) : 0) }
}

#if canImport(Glibc)
    import Glibc
#endif
