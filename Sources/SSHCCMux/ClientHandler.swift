// One wrapper's connection to the daemon, on a thread of its own: read its version and request, answer.
// A wrapper given a local slot keeps the connection open while its compiler runs; the slot is free when
// the connection closes (the compiler inherited the socket, so its exit closes it).

import Logging
import MuxCore
import POSIXSupport

/// Made on the accepting thread, then used by its own thread only; the connection closes with it.
final class ClientHandler: @unchecked Sendable {
    let fd: FileDescriptor
    let dispatcher: Dispatcher
    let logger: Logger
    let version: String
    /// Called when a wrapper asks the daemon to stop.
    let onStop: @Sendable () -> Void
    let status: @Sendable (_ json: Bool) -> String

    init(
        connection: consuming FileDescriptor, dispatcher: Dispatcher, logger: Logger, version: String,
        onStop: @escaping @Sendable () -> Void, status: @escaping @Sendable (_ json: Bool) -> String
    ) {
        self.fd = consume connection
        (self.dispatcher, self.logger, self.version, self.onStop, self.status) =
            (dispatcher, logger, version, onStop, status)
    }

    func serve() {
        dispatcher.clientArrived()
        defer { dispatcher.clientLeft() }
        var intake = WrapperIntake(version: version)
        do {
            while true {
                let bytes = try FileDescriptorIO.read(fd)
                if bytes.isEmpty { return }
                let events = try intake.receive(bytes)
                switch events.first {
                case .request(let request, _): return try answer(request, pieces: events.dropFirst(), &intake)
                case .otherVersion(let peer): return try refuse(peer)
                case .piece, nil: continue  // (no piece comes before its request)
                }
            }
        } catch {
            logger.warning("wrapper connection: \(error)")
        }
    }

    private func refuse(_ peer: String) throws {
        logger.notice("refused a wrapper of version '\(Console.neutralised(peer))' (this daemon is '\(version)')")
        let text = "the mux daemon is '\(version)', the wrapper '\(peer)'"
        try FileDescriptorIO.writeAll(
            fd, MuxFrame(.version, text: version).encoded + MuxFrame(.versionRefused, text: text).encoded)
    }

    /// Hands `job` the pieces of its source (JOBC… JOBS after the JOBA) as they come, starting with those
    /// already read; false when the wrapper leaves first, as it does when its preprocessing fails, or sends
    /// anything else.
    private func receiveSource(
        for job: DaemonJob, _ pieces: ArraySlice<WrapperIntake.Event>, _ intake: inout WrapperIntake
    ) -> Bool {
        var pieces = pieces
        while true {
            for case .piece(let piece, let last) in pieces { job.supply(piece, last: last) }
            if intake.isComplete { return true }
            guard let bytes = try? FileDescriptorIO.read(fd), !bytes.isEmpty else { return false }
            do {
                pieces = try intake.receive(bytes)[...]
            } catch {
                logger.warning("wrapper connection: \(error)")
                return false
            }
        }
    }

    /// Waits until the job's answer is ready (true) or the wrapper has closed its connection (false).
    private func awaitAnswerOrLeaving(_ job: DaemonJob) -> Bool {
        guard let answered = WakePipe() else { return true }  // then only the answer is awaited
        defer { answered.close() }
        job.answer.whenFulfilled { answered.ring() }
        while true {
            let ready = Poll.wait([answered.pollEntry, Poll.Entry(fd)], milliseconds: -1)
            if ready[0] { return true }
            if ready[1] {
                switch UnixSocket.pending(fd) {
                case .ended: return false
                case .bytes: return true  // bytes no job has: the answer is awaited alone
                case .nothing: continue
                }
            }
        }
    }

    private func answer(
        _ request: WrapperRequest, pieces: ArraySlice<WrapperIntake.Event>, _ intake: inout WrapperIntake
    ) throws {
        let out = MuxFrame(.version, text: version).encoded
        switch request {
        case .stop:
            // Understood across versions: it is how a wrapper replaces a daemon of another version.
            onStop()
            try FileDescriptorIO.writeAll(fd, out + MuxFrame(.stopping).encoded)
        case .status(let json):
            try FileDescriptorIO.writeAll(fd, out + MuxFrame(.status, text: status(json)).encoded)
        case .job(let submission):
            let (answer, job): (JobAnswer, DaemonJob?)
            switch dispatcher.start(submission) {
            case .answer(let immediate): (answer, job) = (immediate, nil)
            case .job(let started):
                guard receiveSource(for: started, pieces, &intake) else { return dispatcher.cancel(started) }
                dispatcher.sourceComplete(started)
                // A wrapper sends the source before its preprocessor's status is known, and leaves when that
                // status is a failure: the job is withdrawn wherever it is.
                guard awaitAnswerOrLeaving(started) else { return dispatcher.cancel(started) }
                (answer, job) = (started.answer.wait(), started)
            }
            try? FileDescriptorIO.writeAll(fd, out + MuxCodec.encode(answer))
            if case .runLocally = answer, let job {
                // Hold the local slot until the wrapper's compiler is done (EOF or error on the socket).
                while let bytes = try? FileDescriptorIO.read(fd, upTo: 64), !bytes.isEmpty {}
                dispatcher.localSlotReleased(job)
            }
        }
    }
}
