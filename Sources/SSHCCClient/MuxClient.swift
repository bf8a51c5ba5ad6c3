// The wrapper's side of the mux protocol (Docs/mux-protocol.md): send the version and one request, read
// the daemon's version and answer. A daemon of another version is stopped and replaced; a daemon that
// vanishes mid-job (killed) is replaced once and the job sent again, since it never reached a compiler
// on the build's behalf without the wrapper hearing of it.

import CompileCore
import MuxCore
import POSIXSupport

enum MuxClient {
    static let version = MuxVersion.line(build: SSHCCVersion.string)

    /// A job's answer; for `.runLocally` the connection stays open and holds the local slot.
    struct Outcome: ~Copyable {
        var answer: JobAnswer
        var connection: FileDescriptor?
    }

    enum ExchangeFailure: Error {
        /// The daemon speaks another version (its version line).
        case otherVersion(String)
        /// The connection broke or the daemon sent nonsense.
        case broken(String)
    }

    /// How a connection to the daemon is made: DaemonLauncher.connect (the in-process tests pass their own).
    typealias Connect = () -> Result<FileDescriptor, SSHCCFailure>

    /// Opens a connection for `job` and sends its command line (JOBA) before the wrapper preprocesses, so
    /// that its host can get the compiler ready meanwhile; nil when that did not work (the whole job then
    /// goes by `submit`). Closing the connection before the answer withdraws the job.
    static func open(_ job: JobSubmission, connect: Connect) -> FileDescriptor? {
        guard case .success(let fd) = connect() else { return nil }
        guard (try? FileDescriptorIO.writeAll(fd, MuxCodec.jobHead(job, version: version))) != nil else { return nil }
        return fd
    }

    /// Pieces of at least this much text go ahead while the preprocessor runs (JOBC): a few milliseconds
    /// on a 20 Mbit/s link once compressed, and no piece at all for most small files.
    static let pieceSize = 64 * 1024

    /// Sends a piece of the source (JOBC), or its rest (JOBS, `last`); false when the connection failed
    /// (reading the answer then finds out why).
    static func send(_ fd: borrowing FileDescriptor, _ piece: ArraySlice<UInt8>, last: Bool) -> Bool {
        (try? FileDescriptorIO.writeAll(fd, MuxCodec.sourceHeader(count: piece.count, last: last) + piece)) != nil
    }

    /// Reads the answer to the job sent on `fd` (whose connection is then closed, unless it holds a local
    /// slot); nil when the daemon was lost or is of another version (which is then replaced): the job is
    /// to be sent again whole.
    static func answer(_ fd: consuming FileDescriptor, paths: MuxPaths, verbose: Bool) -> Outcome? {
        do throws(ExchangeFailure) {
            let received = try exchange(fd, head: [])
            return try outcome(received, fd)
        } catch {
            switch error {
            case .otherVersion(let theirs): replace(theirs, paths: paths)
            case .broken(let why): if verbose { Console.error("sshcc: lost the mux daemon (\(why)); trying again\n") }
            }
            return nil
        }
    }

    /// Stops a daemon of another version, so that the next connection starts one of ours.
    private static func replace(_ theirs: String, paths: MuxPaths) {
        Console.error(
            "sshcc: the mux daemon is '\(Console.neutralised(theirs))', this sshcc is '\(version)': replacing it\n")
        stop(paths)
    }

    /// A job's answer; the connection stays open only to hold a local slot.
    private static func outcome(_ received: Received, _ fd: consuming FileDescriptor) throws(ExchangeFailure)
        -> Outcome
    {
        guard case .job(let answer) = received else { throw .broken("answer of the wrong kind") }
        if case .runLocally = answer { return Outcome(answer: answer, connection: fd) }
        return Outcome(answer: answer, connection: nil)
    }

    /// Sends `job` and its whole `source` to the daemon (starting or replacing it as needed) and returns its
    /// answer: three attempts, since a daemon that vanished never answered on the build's behalf.
    static func submit(_ job: JobSubmission, source: [UInt8], paths: MuxPaths, verbose: Bool, connect: Connect)
        throws(SSHCCFailure) -> Outcome
    {
        var lastProblem = ""
        for attempt in 0..<3 {
            let fd = try connect().get()
            do throws(ExchangeFailure) {
                let head = MuxCodec.jobHead(job, version: version) + MuxCodec.sourceHeader(count: source.count)
                let received = try exchange(fd, head: head, body: source[...])
                return try outcome(received, fd)
            } catch {
                switch error {
                case .otherVersion(let theirs):
                    replace(theirs, paths: paths)
                    lastProblem = "the mux daemon kept answering as '\(theirs)'"
                case .broken(let why):
                    if verbose || attempt > 0 { Console.error("sshcc: lost the mux daemon (\(why)); trying again\n") }
                    lastProblem = "lost the mux daemon: \(why)"
                }
            }
        }
        throw SSHCCFailure(.connectFailed, lastProblem + " (see \(paths.log))")
    }

    enum Received {
        case job(JobAnswer)
        case text(String)
        case stopped
    }

    /// Writes `head` and `body` (in one write: the daemon wakes once), then reads the version and the answer.
    static func exchange(_ fd: borrowing FileDescriptor, head: [UInt8], body: ArraySlice<UInt8> = [])
        throws(ExchangeFailure) -> Received
    {
        // A write that fails still lets us read: a daemon of another version answers and closes without
        // reading a job's source.
        var writeFailure: String?
        do {
            if !head.isEmpty || !body.isEmpty { try FileDescriptorIO.writeAll(fd, body.isEmpty ? head : head + body) }
        } catch {
            writeFailure = "\(error)"
        }
        var inbox = MuxInbox()
        while true {
            let bytes: [UInt8]
            do {
                bytes = try FileDescriptorIO.read(fd)
            } catch {
                throw .broken(writeFailure ?? "\(error)")
            }
            if bytes.isEmpty { throw .broken(writeFailure ?? "the daemon closed the connection before answering") }
            do {
                try inbox.receive(bytes)
                guard let theirs = inbox.peerVersion, let frame = inbox.frames.first else { continue }
                switch frame.kind {
                case .versionRefused: throw ExchangeFailure.otherVersion(theirs)
                case .status: return .text(frame.text)
                case .stopping: return .stopped
                default:
                    if theirs != version { throw ExchangeFailure.otherVersion(theirs) }
                    if let answer = try MuxCodec.answer(from: inbox.frames) { return .job(answer) }
                }
            } catch let error as ExchangeFailure {
                throw error
            } catch {
                throw .broken("\(error)")
            }
        }
    }

    /// Asks the daemon at `paths` to stop (any version understands it); true if one was running.
    @discardableResult
    static func stop(_ paths: MuxPaths) -> Bool {
        guard let fd = try? DaemonLauncher.connectRunning(paths) else { return false }
        return stop(over: fd)
    }

    /// Asks the daemon at the other end of `fd` (checked by DaemonLauncher) to stop; closes `fd`.
    static func stop(over fd: consuming FileDescriptor) -> Bool {
        let head = MuxFrame(.version, text: version).encoded + MuxFrame(.stop).encoded
        return (try? exchange(fd, head: head)) != nil
    }

    /// The daemon's status text, or nil when none runs; throws when the one there is not this user's own.
    static func status(_ paths: MuxPaths, json: Bool = false) throws(SSHCCFailure) -> String? {
        guard let fd = try DaemonLauncher.connectRunning(paths) else { return nil }
        let head =
            MuxFrame(.version, text: version).encoded + MuxFrame(.statusQuery, text: json ? "json" : "").encoded
        switch try? exchange(fd, head: head) {
        case .text(let text): return text
        default: return nil
        }
    }
}
