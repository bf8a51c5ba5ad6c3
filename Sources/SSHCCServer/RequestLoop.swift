// The server's stream loop: read requests from a descriptor, answer each on another, until end of input.
// One channel carries many jobs back to back; a stream that loses its framing is closed, never guessed at.
// A command line that arrives ahead of its source (sshcc sends it before preprocessing) gets its job
// ready meanwhile (JobRunner.prepare).
// The stream is watched while a job runs, so a client that leaves stops its compile; SIGTERM lets the
// running job finish and answer, then ends the loop.

import CompileCore
import DistccWire
import Logging
import POSIXSupport

/// How a request loop ended.
public enum LoopEnd: Equatable, Sendable {
    /// End of input between requests.
    case finished
    /// End of input inside a request: the client gave up (stock distcc does this when preprocessing fails).
    case truncated
    /// The client left while its job waited or compiled; the job was stopped.
    case abandoned
    /// SIGTERM: the running job (if any) was answered first.
    case terminated
    /// The input was not the distcc protocol.
    case protocolError
    /// Reading or writing the stream failed.
    case ioError

    public var exitCode: Int32 {
        switch self {
        case .finished, .terminated: 0
        case .truncated, .abandoned: ExitCode.truncatedRequest.rawValue
        case .protocolError: ExitCode.protocolError.rawValue
        case .ioError: ExitCode.localIOError.rawValue
        }
    }
}

public enum RequestLoop {
    /// Serves requests from `input`, replying on `output`, until the stream ends or breaks; both are closed
    /// when it returns (the client sees the end at once). `signals` tells of SIGTERM.
    public static func serve(
        input: consuming FileDescriptor, output: consuming FileDescriptor, runner: inout JobRunner, logger: Logger,
        signals: SignalPipe? = nil
    ) -> LoopEnd {
        var decoder = RequestDecoder(limits: runner.limits)
        let watch = StreamWatch(input: input, output: output, signals: signals)
        // The job whose command line has arrived ahead of its source (once per request).
        var prepared: PreparedJob?
        var preparedRequest = false
        var preparedAt: UInt64 = 0
        // The current request's source as it arrives (reads after its command line, or after `NEED`).
        var upload = UploadClock()
        /// Appends what the watch read; it is source when the request's command line is whole.
        func takeInput() {
            let bytes = watch.takePending()
            if decoder.pendingArguments != nil { upload.read(bytes.count, at: Monotonic.nanoseconds()) }
            decoder.append(bytes)
        }
        while true {
            do {
                // After SIGTERM no new job starts, even one already received.
                while !watch.terminating, let request = try decoder.next() {
                    let ready = prepared
                    (prepared, preparedRequest) = (nil, false)
                    let uploaded = upload.figures
                    upload = UploadClock()
                    switch runner.run(request, prepared: ready, watch: watch, upload: uploaded) {
                    case .abandoned: return .abandoned
                    case .needSource(let job):
                        // A question the object cache cannot answer: the job stays ready for its source.
                        (prepared, preparedRequest, preparedAt) = (job, true, Monotonic.nanoseconds())
                        try FileDescriptorIO.writeAll(watch.output, WireEncoder.sourceNeeded)
                        decoder.answered(needSource: true)
                    case .reply(var reply):
                        reply.version = request.version  // compressed as the request was
                        try FileDescriptorIO.writeAll(watch.output, WireEncoder.encode(reply))
                        if request.sourceDigest != nil { decoder.answered(needSource: false) }
                    }
                    takeInput()
                }
            } catch let error as WireError {
                logger.error("\(error); closing the stream")
                return .protocolError
            } catch {
                logger.error("writing a reply: \(error)")
                return .ioError
            }
            if watch.terminating {
                if !decoder.isAtBoundary { logger.notice("SIGTERM: a request not yet started was dropped") }
                return .terminated
            }
            if watch.inputEnded {
                do {
                    try decoder.finish()
                    return .finished
                } catch {
                    logger.notice("client closed the stream early: \(error)")
                    return .truncated
                }
            }
            if watch.closed {
                logger.notice("the client closed the reply stream")
                return decoder.isAtBoundary ? .finished : .truncated
            }
            if !preparedRequest, let arguments = decoder.pendingArguments {
                // The read that completed the command line may have brought the source's first bytes.
                if decoder.bufferedCount > 0 { upload.read(decoder.bufferedCount, at: Monotonic.nanoseconds()) }
                preparedRequest = true
                prepared = runner.prepare(arguments)
                preparedAt = Monotonic.nanoseconds()
            }
            // A job got ready ahead holds a slot and started compilers only while its source keeps coming
            // within the source wait; then it gives them up and the request, once whole, queues like any other.
            var wait: Int32 = -1
            if prepared?.slot != nil || prepared?.claimed != nil {
                let left = runner.options.sourceWaitSeconds * 1000 - Int(Monotonic.milliseconds(since: preparedAt))
                if left <= 0 {
                    logger.notice(
                        "the source did not come within \(runner.options.sourceWaitSeconds) s: gave up the compile slot, the compiler started ahead and the object cache's claim on the job"
                    )
                    prepared = nil
                } else {
                    wait = Int32(left)
                }
            }
            watch.pause(milliseconds: wait)
            takeInput()
        }
    }
}
