// A compile job inside the daemon: its command line and (as the wrapper sends it) its source, its scheduling
// ticket, the failures met while it moved between hosts, and the one-shot result its wrapper's thread waits on.

import CompileCore
import MuxCore
import POSIXSupport

final class DaemonJob: @unchecked Sendable {
    let id: Int
    /// The command line the server compiles.
    let arguments: [String]
    /// The client's toolchain identity (`DIGEST SUMMARY`), nil when unknown.
    let toolchain: String?
    /// What a wrapper hears once per daemon (Dispatcher): a host found to have another toolchain for this job's
    /// compiler, a bad entry of its host list.
    var onceNotes: [String] = []
    let answer = OneShot<JobAnswer>()
    /// The source file as the command line names it (`src/x.c`), for status and logs.
    let file: String
    /// When the wrapper submitted it (ns, Monotonic).
    let submitted = Monotonic.nanoseconds()
    // The fields below are guarded by the Dispatcher's monitor.
    var ticket: Scheduler.Ticket
    /// The host it was last given to (or "localhost"), and when.
    var placed: (host: String, at: UInt64)?
    /// Each host that failed the job, in order.
    var failures: [(host: String, failure: SSHCCFailure)] = []

    // The source arrives after the command line, in pieces as the preprocessor writes it; its own lock, since the driver thread reads it while the wrapper's thread
    // supplies it. Pieces are kept until the job ends: another channel may have to start it again.
    private let lock = Monitor()
    private var pieces: [[UInt8]] = []
    private var complete = false
    private var wholeSource: [UInt8]?
    private var isCancelled = false
    private var isAnswered = false
    private var sourceByteCount = 0
    private var sentAt: UInt64?
    /// Each driver holding a copy of the job, woken when it changes.
    private var onChange: [String: @Sendable () -> Void] = [:]

    /// A question to the server (its load), not a wrapper's job: the driver that sent it keeps the answer.
    let isProbe: Bool
    /// A second host the job was raced on (its first is `placed`), for status.
    var racedOn: String?

    init(id: Int, arguments: [String], pools: [PoolKey], toolchain: String? = nil, isProbe: Bool = false) {
        self.id = id
        self.arguments = arguments
        self.toolchain = toolchain
        self.isProbe = isProbe
        file = PathName.source(in: arguments)
        let compiler = PathName.base(arguments.first ?? "")
        let key = toolchain.map { "\(compiler) \(ToolchainCheck.digest($0))" }
        ticket = Scheduler.Ticket(
            id: id, pools: pools, toolchain: key, compiler: compiler,
            affinity: isProbe ? nil : arguments.joined(separator: "\u{0}"))
    }

    /// The preprocessed source, once the wrapper has sent all of it.
    var source: [UInt8]? {
        lock.withLock {
            guard complete else { return nil }
            if wholeSource == nil { wholeSource = pieces.count == 1 ? pieces[0] : Array(pieces.joined()) }
            return wholeSource
        }
    }

    /// The pieces from index `first` on, and whether they end the source.
    func pieces(from first: Int) -> (pieces: ArraySlice<[UInt8]>, last: Bool) {
        lock.withLock { (pieces[min(first, pieces.count)...], complete) }
    }

    /// The wrapper left before its answer (its preprocessing failed): the job is dropped.
    var cancelled: Bool { lock.withLock { isCancelled } }
    /// Nobody waits for a result of this copy any more: the wrapper left, or another copy answered it.
    var isOver: Bool { lock.withLock { isCancelled || isAnswered } }
    /// Bytes of the source the wrapper has sent so far.
    var sourceBytes: Int { lock.withLock { sourceByteCount } }

    /// Whether the wrapper has sent all of the source.
    var sourceComplete: Bool { lock.withLock { complete } }

    /// When its head went out on a channel (ns, Monotonic); nil while it waits for one.
    var sentToServer: UInt64? { lock.withLock { sentAt } }
    /// The driver sent its head on a channel (again, when an earlier channel failed it); a raced copy keeps
    /// the first copy's time.
    func markSent(copy: Bool = false) {
        lock.withLock { if !copy || sentAt == nil { sentAt = Monotonic.nanoseconds() } }
    }
    /// It went back to the scheduler: no channel has it.
    func markUnsent() { lock.withLock { sentAt = nil } }

    /// The next piece of the source; `last` ends it.
    func supply(_ piece: [UInt8], last: Bool) {
        changing {
            pieces.append(piece)
            sourceByteCount += piece.count
            complete = last
        }
    }
    func cancel() { changing { isCancelled = true } }

    /// Answers the wrapper; any other copy still running is withdrawn by its driver.
    func finish(_ answer: JobAnswer) {
        changing { isAnswered = true }
        self.answer.fulfil(answer)
    }

    /// `wake` is called when a piece of the source arrives or the job is over (each driver that holds a copy
    /// sets it, under its host's name).
    func whenChanged(by host: String, _ wake: @escaping @Sendable () -> Void) {
        lock.withLock { onChange[host] = wake }
    }

    private func changing(_ change: () -> Void) {
        let wakes = lock.withLock {
            change()
            return Array(onChange.values)
        }
        for wake in wakes { wake() }
    }

    /// Lines for the wrapper about the hosts that failed the job before its outcome (`dropping` the
    /// last failure when that failure is the outcome itself).
    func notes(dropping last: Int = 0) -> [String] {
        onceNotes
            + failures.dropLast(last).flatMap { host, failure in
                [failure.summary.contains(host) ? failure.summary : "\(host): \(failure.summary)"] + failure.details
            }
    }
}

/// What the host drivers tell the dispatcher. Called on a driver's thread, never under a driver lock.
protocol DriverEvents: AnyObject, Sendable {
    /// `load`: the server's load with the reply (protocol 6); `observation`: what the job tells of the host
    /// (nil: nothing — it was answered from the server's object cache).
    func jobSucceeded(
        _ job: DaemonJob, on key: PoolKey, result: JobResult, load: ServerLoad?, observation: Scheduler.Observation?)
    /// The server answered the load question (nil: it cannot; an older sshccd).
    func loadReported(_ key: PoolKey, _ load: ServerLoad?)
    /// `charge`: whether the host or only a channel of it failed the job (Scheduler.failed).
    func jobFailed(_ job: DaemonJob, on key: PoolKey, _ failure: SSHCCFailure, charge: FailureCharge)
    /// The server refused the job for all jobs of its compiler there (`scope` .compiler) or for every job
    /// (.host: the driver has set the host down).
    func jobRefused(_ job: DaemonJob, on key: PoolKey, _ failure: SSHCCFailure, scope: RefusalScope)
    func hostDown(_ key: PoolKey, _ failure: SSHCCFailure)
    func hostUp(_ key: PoolKey)
}
