// One SSH connection to a host and the channels on it, each running one sshccd that serves jobs back to
// back: the I/O shell around ChannelLifecycle (MuxCore), which decides what each event means. Everything
// here is non-blocking and runs on the host driver's thread: `service` moves every channel's bytes as far as
// they go without waiting and reports what happened. The half-sent packet rule (Docs/protocol.md): when a
// step leaves a packet half-sent, that step alone is repeated until it completes.

import CompileCore
import DistccWire
import MuxCore
import POSIXSupport
import SSH
import WireCompression

/// A channel with its sshccd: its lifecycle, and the bytes of the job it carries.
final class LiveChannel {
    let channel: Channel
    var life: ChannelLifecycle<DaemonJob>
    /// The job's request as this channel's server reads it, queued as the source arrives.
    var request: [UInt8] = []
    var written = 0
    /// Version 5: the source's pieces queued so far, and the compressor they all go through.
    var piecesSent = 0
    var compressor: ZstdStreamCompressor?
    /// DOTC frames queued before the last piece was known (for `sshcc --status`).
    var piecesAhead = 0
    /// The reply as it comes, and where it ends (found without decompressing it).
    var reply: [UInt8] = []
    var extent = ReplyExtent()
    /// The job's bytes before compression, for the statistics.
    var rawSent = 0

    init(_ channel: Channel, servesOneJob: Bool) {
        self.channel = channel
        life = ChannelLifecycle(servesOneJob: servesOneJob)
    }

    func start(_ job: DaemonJob, head: [UInt8], version: UInt32, now: UInt64) {
        life.assign(job, version: version, now: now)
        request = head
        written = 0
        piecesSent = 0
        piecesAhead = 0
        compressor = version == ProtocolVersion.zstdStreamed ? ZstdStreamCompressor() : nil
        reply = []
        extent = ReplyExtent()
        rawSent = job.arguments.reduce(0) { $0 + $1.utf8.count } + FrameHeader.size * (job.arguments.count + 3)
        queueSource()
    }

    /// Queues what the wrapper has sent of the source: in version 5 every piece as it comes (it travels while
    /// the wrapper still preprocesses), otherwise the whole source once it is complete.
    func queueSource() {
        guard life.awaitingSource, let job = life.job else { return }
        if let compressor {
            let (pieces, last) = job.pieces(from: piecesSent)
            for index in pieces.indices {
                let isLast = last && index == pieces.endIndex - 1
                let frame = WireEncoder.sourcePiece(pieces[index], last: isLast, compressor: compressor)
                if !isLast && !frame.isEmpty { piecesAhead += 1 }
                request += frame
                rawSent += pieces[index].count
            }
            piecesSent += pieces.count
            if last { life.sourceComplete() }
        } else if let source = job.source {
            request += WireEncoder.sourceFrame(source, version: life.version)
            rawSent += source.count
            life.sourceComplete()
        }
    }

    /// The request's bytes are sent: drop them (the source's pieces stay with the job for a retry).
    func requestDone() {
        request = []
        written = 0
    }
}

/// A job's bytes on the channel, and what they carried before compression.
struct JobTraffic {
    var sent = 0
    var received = 0
    var rawSent = 0
    var rawReceived = 0
    /// Pieces of the source sent ahead of its end (version 5).
    var piecesAhead = 0
}

/// What `ChannelEngine.service` reports to its driver.
enum ConnectionEvent {
    case succeeded(DaemonJob, JobResult, nanoseconds: UInt64, traffic: JobTraffic)
    /// The job's channel failed; `ChannelFault.charge` says whether the host is to blame.
    case jobFailed(DaemonJob, ChannelFault)
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
    func start(_ job: DaemonJob, on channel: LiveChannel, version: UInt32) {
        channel.start(
            job, head: HostRequest.head(job.arguments, for: spec, version: version), version: version,
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
    func lost(_ failure: ClientFailure) -> [ConnectionEvent] {
        defer { channels.removeAll() }
        return channels.flatMap { events(for: $0.life.connectionLost(failure.summary), $0) }
    }

    /// Jobs that made no progress within the I/O timeout fail; their channels are retired.
    func expireStalledJobs() -> [ConnectionEvent] {
        let now = Monotonic.nanoseconds()
        return channels.flatMap { events(for: $0.life.tick(now: now, timeout: UInt64(ioTimeout * 1e9)), $0) }
    }

    /// Marks the session's current step as pending when libssh2 left a packet half-sent.
    private func holdIfHalfSent(_ step: Pending) {
        if session.isBlockedOutbound { pending = step }
    }

    private func lost(_ error: SSHError) -> ConnectionLost {
        ConnectionLost(failure: ClientFailure(.connectFailed, "connection to \(spec) broke: \(error)"))
    }

    private func events(for actions: [ChannelLifecycle<DaemonJob>.Action], _ live: LiveChannel) -> [ConnectionEvent] {
        actions.map { action in
            switch action {
            case .failed(let job, let fault): .jobFailed(job, fault)
            case .versionRefused(let job, let version): .versionRefused(job, version: version)
            case .succeeded(let job, _):
                preconditionFailure("a success is reported with its result (\(job.id))")
            }
        }
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
            events.append(.hostRefused(HostConnector.noSubsystem(spec)))
        }
    }

    // MARK: Jobs

    private func advance(
        _ live: LiveChannel, _ buffer: UnsafeMutableRawBufferPointer, _ events: inout [ConnectionEvent]
    ) throws(ConnectionLost) {
        if live.life.job?.cancelled == true, !session.isBlockedOutbound {
            live.life.withdraw()
            return
        }
        live.queueSource()
        if live.life.phase == .sending {
            writing: while live.written < live.request.count {
                switch live.channel.tryWrite(live.request, from: live.written) {
                case .done(0): break writing  // the peer's window is full; reading below lets it grow
                case .done(let count):
                    live.written += count
                    live.life.progressed(now: Monotonic.nanoseconds())
                case .again:
                    holdIfHalfSent(.channel(live))
                    if pending != nil { return }
                    break writing
                case .failed(let error):
                    guard error.isChannelOnly else { throw lost(error) }
                    live.life.writeRefused()
                    break writing
                }
            }
            if live.written == live.request.count && !live.life.awaitingSource {
                live.life.requestSent()
            }
        }
        try read(live, buffer, &events)
    }

    private func read(_ live: LiveChannel, _ buffer: UnsafeMutableRawBufferPointer, _ events: inout [ConnectionEvent])
        throws(ConnectionLost)
    {
        while true {
            switch live.life.phase {
            case .retired: return
            case .closing: return finishClosing(live, &events)
            case .idle, .sending, .receiving: break
            }
            switch live.channel.tryRead(into: buffer) {
            case .again:
                holdIfHalfSent(.channel(live))
                return
            case .failed(let error):
                guard error.isChannelOnly else { throw lost(error) }
                live.life.outputEnded()
            case .done(0):
                live.life.outputEnded()
            case .done(let count):
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                live.life.replyBytes(now: Monotonic.nanoseconds())
                guard live.life.job != nil else { continue }  // unasked: the lifecycle retired the channel
                live.reply.append(contentsOf: bytes)
                let progress: ReplyExtent.Progress
                do {
                    progress = try live.extent.consume(bytes)
                } catch {
                    events += self.events(for: live.life.replyMalformed("\(error)"), live)
                    continue
                }
                if case .complete(let trailing) = progress { complete(live, trailing: trailing, &events) }
            }
        }
    }

    /// The reply is whole: decoded once, here, and handed on as the job's result.
    private func complete(_ live: LiveChannel, trailing: Int, _ events: inout [ConnectionEvent]) {
        var decoder = ReplyDecoder()
        decoder.append(live.reply[..<(live.reply.count - trailing)])
        let reply: Reply
        do {
            guard let decoded = try decoder.next() else { throw WireError.truncated(expecting: "", bufferedBytes: 0) }
            reply = decoded
        } catch {
            events += self.events(for: live.life.replyMalformed("\(error)"), live)
            return
        }
        let sent = live.written
        for action in live.life.replyComplete(now: Monotonic.nanoseconds(), trailingBytes: trailing > 0) {
            guard case .succeeded(let job, let nanoseconds) = action else { continue }
            let traffic = JobTraffic(
                sent: sent, received: live.reply.count - trailing, rawSent: live.rawSent,
                rawReceived: 5 * FrameHeader.size + reply.stderr.count + reply.stdout.count + reply.object.count,
                piecesAhead: live.piecesAhead)
            let result = JobResult(
                output: ProcessResult(
                    status: Int32(bitPattern: reply.status), stdout: reply.stdout, stderr: reply.stderr),
                object: reply.object)
            events.append(.succeeded(job, result, nanoseconds: nanoseconds, traffic: traffic))
        }
        live.requestDone()
        live.reply = []
        live.extent = ReplyExtent()
    }

    /// After sshccd's output ended: wait for the close; its exit status tells why the job (if any) failed.
    private func finishClosing(_ live: LiveChannel, _ events: inout [ConnectionEvent]) {
        let status: Int32?
        switch live.channel.tryWaitClosed() {
        case .again: return
        case .failed: status = nil
        case .done(let value): status = value
        }
        events += self.events(for: live.life.closed(status: status), live)
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
