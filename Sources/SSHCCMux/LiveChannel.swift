// One channel to one sshccd and the job it carries: the I/O shell around ChannelLifecycle (MuxCore), which
// decides what each event means. This moves the bytes — the request encoded for the host's protocol
// version, the source queued as the wrapper sends it, the reply gathered until its frame headers say it is
// whole and then decoded once — over a ServerStream: an SSH channel in the daemon, a pipe pair to a local
// sshccd in the in-process tests.

import CompileCore
import DistccWire
import MuxCore
import ObjectCache
import POSIXSupport
import SSH
import WireCompression

/// One non-blocking step on a job's byte stream.
enum StreamStep<Value> {
    case done(Value)
    /// Nothing can move now (repeat the same step later).
    case again
    /// This stream alone closed (sshccd closed its input or output): the connection under it is fine.
    case streamClosed
    /// The connection under the stream broke.
    case broken(SSHError)
}

/// A byte stream to one sshccd, driven one non-blocking step at a time.
protocol ServerStream: AnyObject {
    /// Writes from `bytes[offset...]`; how many bytes went (0 when the peer's window is full).
    func write(_ bytes: [UInt8], from offset: Int) -> StreamStep<Int>
    /// `.done(0)` at the end of sshccd's output.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> StreamStep<Int>
    /// After the end of output: sshccd's exit status (nil when none came).
    func waitClosed() -> StreamStep<Int32?>
}

extension Channel: ServerStream {
    func write(_ bytes: [UInt8], from offset: Int) -> StreamStep<Int> { Self.step(tryWrite(bytes, from: offset)) }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> StreamStep<Int> { Self.step(tryRead(into: buffer)) }
    func waitClosed() -> StreamStep<Int32?> { Self.step(tryWaitClosed()) }

    private static func step<Value>(_ attempt: Attempt<Value>) -> StreamStep<Value> {
        switch attempt {
        case .done(let value): .done(value)
        case .again: .again
        case .failed(let error): error.isChannelOnly ? .streamClosed : .broken(error)
        }
    }
}

/// A channel with its sshccd: its lifecycle, and the bytes of the job it carries.
final class LiveChannel {
    let channel: any ServerStream
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
    /// The job's bytes before compression (each frame with its header), for the statistics.
    var rawSent = 0
    /// When the request's last byte went (ns, Monotonic): from then on the job's time is the host's.
    var requestSentAt: UInt64?
    /// Protocol 7: how the link has done, for the choice to ask for the job's result first.
    var ask: (link: AskFirst, mode: AskFirst.Mode)?
    /// The question went (DOTH); the source's frame waits here until the server says it needs it.
    var asked = false
    var heldSource: [UInt8] = []
    /// The question was answered `NEED` and the source went after it; the question's bytes.
    var sourceWasNeeded = false
    var questionBytes = 0
    /// The reply's first read: when, and how many bytes it brought (the link's rate is timed after it).
    var firstRead: (at: UInt64, bytes: Int)?

    init(_ channel: any ServerStream, servesOneJob: Bool) {
        self.channel = channel
        life = ChannelLifecycle(servesOneJob: servesOneJob)
    }

    func start(
        _ job: DaemonJob, head: [UInt8], version: DistccVersion, ask: (link: AskFirst, mode: AskFirst.Mode)? = nil,
        now: UInt64
    ) {
        life.assign(job, version: version, now: now)
        self.ask = ask
        (asked, sourceWasNeeded, questionBytes, heldSource, firstRead) = (false, false, 0, [], nil)
        request = head
        written = 0
        piecesSent = 0
        piecesAhead = 0
        compressor = version.streamsSource ? ZstdStreamCompressor() : nil
        reply = []
        extent = ReplyExtent()
        rawSent = head.count  // the head is never compressed
        requestSentAt = nil
        queueSource()
    }

    /// Queues what the wrapper has sent of the source: in version 5 every piece as it comes (it travels while
    /// the wrapper still preprocesses), otherwise the whole source once it is complete. In version 7 a job that
    /// asks first (AskFirst) queues its source's digest instead and keeps the source until the server needs it.
    func queueSource() {
        guard life.awaitingSource, let job = life.job else { return }
        if let ask, ask.link.mayAsk(mode: ask.mode), piecesSent == 0, let compressor {
            // The choice needs the whole source: its digest, and its size as it would travel.
            guard let source = job.source else {
                if ask.link.holdsPieces(mode: ask.mode) { return }
                return queuePieces(job, compressor)
            }
            let frame = WireEncoder.sourcePiece(source, last: true, compressor: compressor)
            piecesSent = 1
            rawSent += FrameHeader.size + source.count
            life.sourceComplete()
            if ask.link.asks(compressedBytes: frame.count, mode: ask.mode) {
                asked = true
                heldSource = frame
                request += WireEncoder.sourceQuestion(digest: CacheKey.sourceDigest(source))
            } else {
                request += frame
            }
            return
        }
        if let compressor {
            queuePieces(job, compressor)
        } else if let source = job.source {
            request += WireEncoder.sourceFrame(source, version: life.version)
            rawSent += FrameHeader.size + source.count
            life.sourceComplete()
        }
    }

    /// Version 5: every piece the wrapper has sent, as it comes (it travels while the wrapper preprocesses).
    private func queuePieces(_ job: DaemonJob, _ compressor: ZstdStreamCompressor) {
        let (pieces, last) = job.pieces(from: piecesSent)
        for index in pieces.indices {
            let isLast = last && index == pieces.endIndex - 1
            let frame = WireEncoder.sourcePiece(pieces[index], last: isLast, compressor: compressor)
            if !isLast && !frame.isEmpty { piecesAhead += 1 }
            request += frame
            rawSent += FrameHeader.size + pieces[index].count
        }
        piecesSent += pieces.count
        if last { life.sourceComplete() }
    }

    /// The request's bytes are sent: drop them (the source's pieces stay with the job for a retry).
    func requestDone() {
        request = []
        written = 0
    }

    /// Moves the job's bytes as far as they go without waiting and reports what happened; true when the
    /// transport left a packet half-sent (`blockedOutbound`), which this channel alone must finish. Throws
    /// when the connection under the channel broke.
    func step(
        _ buffer: UnsafeMutableRawBufferPointer, _ events: inout [ConnectionEvent], blockedOutbound: () -> Bool
    ) throws(SSHError) -> Bool {
        if life.job?.isOver == true, !blockedOutbound() {
            life.withdraw()
            return false
        }
        queueSource()
        if try writeRequest(blockedOutbound: blockedOutbound) { return true }
        if try read(buffer, &events, blockedOutbound: blockedOutbound) { return true }
        // A question just answered `NEED`: its source goes at once.
        return life.phase == .sending && written < request.count
            ? try writeRequest(blockedOutbound: blockedOutbound) : false
    }

    /// Writes what the request has queued; true when the transport left a packet half-sent.
    private func writeRequest(blockedOutbound: () -> Bool) throws(SSHError) -> Bool {
        if life.phase == .sending {
            writing: while written < request.count {
                switch channel.write(request, from: written) {
                case .done(0): break writing  // the peer's window is full; reading below lets it grow
                case .done(let count):
                    written += count
                    life.progressed(now: Monotonic.nanoseconds())
                case .again:
                    if blockedOutbound() { return true }
                    break writing
                case .streamClosed:
                    life.writeRefused()
                    break writing
                case .broken(let error): throw error
                }
            }
            if written == request.count && !life.awaitingSource {
                if requestSentAt == nil { requestSentAt = Monotonic.nanoseconds() }
                life.requestSent()
            }
        }
        return false
    }

    private func read(
        _ buffer: UnsafeMutableRawBufferPointer, _ events: inout [ConnectionEvent], blockedOutbound: () -> Bool
    ) throws(SSHError) -> Bool {
        while true {
            switch life.phase {
            case .retired: return false
            case .closing:
                finishClosing(&events)
                return false
            case .idle, .sending, .receiving: break
            }
            switch channel.read(into: buffer) {
            case .again: return blockedOutbound()
            case .streamClosed, .done(0): life.outputEnded()
            case .broken(let error): throw error
            case .done(let count):
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                let now = Monotonic.nanoseconds()
                life.replyBytes(now: now)
                guard life.job != nil else { continue }  // unasked: the lifecycle retired the channel
                if reply.isEmpty { firstRead = (now, count) }
                reply.append(contentsOf: bytes)
                let progress: ReplyExtent.Progress
                do {
                    progress = try extent.consume(bytes)
                } catch {
                    events += self.events(for: life.replyMalformed("\(error)"))
                    continue
                }
                guard case .complete(let trailing) = progress else { continue }
                if extent.sourceNeeded {
                    sourceNeeded(trailing: trailing, &events)
                } else {
                    complete(trailing: trailing, &events)
                }
            }
        }
    }

    /// The server has no result for the question: the source goes now, and the reply follows it.
    private func sourceNeeded(trailing: Int, _ events: inout [ConnectionEvent]) {
        guard asked, trailing == 0 else {
            let why = asked ? "bytes after its NEED" : "NEED for a question never asked"
            events += self.events(for: life.replyMalformed(why))
            return
        }
        let now = Monotonic.nanoseconds()
        events.append(.sourceNeeded(seconds: Double(now - min(now, requestSentAt ?? now)) / 1e9))
        (asked, sourceWasNeeded, questionBytes) = (false, true, written)
        (request, written, heldSource) = (heldSource, 0, [])
        (reply, extent, firstRead, requestSentAt) = ([], ReplyExtent(), nil, nil)
        life.sourceRequested()
    }

    /// The reply is whole: decoded once, here, and handed on as the job's result.
    private func complete(trailing: Int, _ events: inout [ConnectionEvent]) {
        var decoder = ReplyDecoder()
        decoder.append(reply[..<(reply.count - trailing)])
        let decoded: Reply
        do {
            guard let whole = try decoder.next() else {
                // The frame headers said the reply ends here; its frames say otherwise.
                events += self.events(for: life.replyMalformed("its frames do not add up to a whole reply"))
                return
            }
            decoded = whole
        } catch {
            events += self.events(for: life.replyMalformed("\(error)"))
            return
        }
        let now = Monotonic.nanoseconds()
        let load = decoded.version.reportsLoad ? ServerLoad(text: decoded.load) : nil
        let hostNanoseconds = now - min(now, requestSentAt ?? now)
        for action in life.replyComplete(now: now, trailingBytes: trailing > 0) {
            guard case .succeeded(let job, let nanoseconds) = action else { continue }
            var traffic = JobTraffic(
                sent: questionBytes + written, received: reply.count - trailing, rawSent: rawSent,
                rawReceived: 5 * FrameHeader.size + decoded.stderr.count + decoded.stdout.count
                    + decoded.object.count,
                piecesAhead: piecesAhead, askedFirst: asked || sourceWasNeeded)
            if let firstRead, now > firstRead.at {
                traffic.replyTransfer = (reply.count - trailing - firstRead.bytes, Double(now - firstRead.at) / 1e9)
            }
            let result = JobResult(
                status: decoded.wait, stdout: decoded.stdout, stderr: decoded.stderr, object: decoded.object)
            events.append(
                .succeeded(
                    job, result, nanoseconds: nanoseconds, traffic: traffic, load: load,
                    hostNanoseconds: hostNanoseconds))
        }
        requestDone()
        reply = []
        extent = ReplyExtent()
    }

    /// After sshccd's output ended: wait for the close; its exit status tells why the job (if any) failed.
    private func finishClosing(_ events: inout [ConnectionEvent]) {
        let status: Int32?
        switch channel.waitClosed() {
        case .again: return
        case .streamClosed, .broken: status = nil
        case .done(let value): status = value
        }
        events += self.events(for: life.closed(status: status))
    }

    /// The lifecycle's failures as the driver hears them (successes carry their result: `complete`).
    func events(for actions: [ChannelLifecycle<DaemonJob>.Action]) -> [ConnectionEvent] {
        actions.compactMap { action in
            switch action {
            case .failed(let job, let fault): .jobFailed(job, fault)
            case .versionRefused(let job, let version): .versionRefused(job, version: version)
            case .succeeded: nil
            }
        }
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
    /// The job asked for its result by the source's digest first (version 7).
    var askedFirst = false
    /// The reply's bytes after its first read, and the seconds they took to arrive.
    var replyTransfer: (bytes: Int, seconds: Double)?
}
