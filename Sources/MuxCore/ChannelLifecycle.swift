// One channel's life with its sshccd, job after job, as a pure state machine: the I/O shell (the daemon's
// channel engine) moves the bytes and reports what happened; this decides what it means — the job done,
// failed and whose fault, refused for its protocol version — and whether the channel may take another job.
//
// A channel is reused only while it is provably in step with its sshccd: a reply that came before the whole
// request went out, bytes nobody asked for, a withdrawn job, a stall or an ended sshccd retire it.

import CompileCore
import DistccWire

/// Who pays for a failed job: only the channel (sshccd died: another channel of the same host takes the job,
/// the host stays in use), or the host (it cannot serve: it is backed off and the job goes elsewhere).
public enum FailureCharge: Equatable, Sendable {
    case channel
    case host
}

/// Why a channel failed its job.
public enum ChannelFault: Equatable, Sendable {
    /// sshccd ended before its reply was whole (a crash, the OOM killer, a kill); its exit status if known.
    case ended(status: Int32?)
    /// The host has no sshccd to run (exit status 127): its configuration, not this channel.
    case serverMissing
    /// What came back was not a reply.
    case badReply(String)
    /// No progress for the whole I/O timeout.
    case stalled(seconds: Int)
    /// The connection under the channel broke.
    case connectionLost(String)

    public var charge: FailureCharge {
        switch self {
        case .ended, .connectionLost: .channel
        case .serverMissing, .badReply, .stalled: .host
        }
    }
}

public struct ChannelLifecycle<Job> {
    public enum Phase: Equatable, Sendable {
        case idle
        /// The request is going out (its source may still be coming from the wrapper); a reply may start
        /// early (a refusal), so the shell reads as well.
        case sending
        case receiving
        /// sshccd's output ended: waiting for the channel's close and exit status.
        case closing
        /// Done with: the shell drops the channel.
        case retired
    }

    public enum Action {
        case succeeded(Job, nanoseconds: UInt64)
        case failed(Job, ChannelFault)
        /// sshccd closed on a compressed request without a word: it is older than `version`.
        case versionRefused(Job, version: DistccVersion)
    }

    public private(set) var phase = Phase.idle
    public private(set) var job: Job?
    /// The protocol version of the current request.
    public private(set) var version = DistccVersion.plain
    /// The wrapper is still sending the source.
    public private(set) var awaitingSource = false
    /// The channel takes no further job once its current one ends.
    public private(set) var retiring = false
    private var started: UInt64 = 0
    public private(set) var lastProgress: UInt64 = 0
    private var replyStarted = false
    /// Stock `distccd --inetd` serves one job and exits.
    private let oneJob: Bool

    public init(servesOneJob: Bool = false) { oneJob = servesOneJob }

    /// Free for a new job.
    public var isReady: Bool { phase == .idle && !retiring }
    public var isBusy: Bool { job != nil }

    // MARK: Events

    public mutating func assign(_ job: Job, version: DistccVersion, now: UInt64) {
        precondition(isReady, "a job given to a channel that is not ready")
        self.job = job
        self.version = version
        phase = .sending
        awaitingSource = true
        replyStarted = false
        started = now
        lastProgress = now
    }

    /// The wrapper's last piece of source is queued.
    public mutating func sourceComplete() { awaitingSource = false }

    /// Bytes went out or came in.
    public mutating func progressed(now: UInt64) { lastProgress = now }

    /// The whole request is written.
    public mutating func requestSent() {
        if phase == .sending && !awaitingSource { phase = .receiving }
    }

    /// The server answered the job's question (protocol 7) with `NEED`: the source goes out now, then the reply
    /// comes.
    public mutating func sourceRequested() {
        guard job != nil, phase == .receiving, version.asksFirst else { return }
        phase = .sending
        replyStarted = false
    }

    /// sshccd closed its input while the request was going out: it may have replied already (a refusal),
    /// so the shell stops writing and reads on; this channel is not reused.
    public mutating func writeRefused() {
        retiring = true
        if phase == .sending { phase = .receiving }
    }

    /// Reply bytes arrived at `now`. Bytes with no job asked for them: the channel is out of step.
    public mutating func replyBytes(now: UInt64) {
        guard job != nil else {
            retiring = true
            phase = .retired
            return
        }
        replyStarted = true
        lastProgress = now
    }

    /// The reply is whole. Before the request was (a refusal), or followed by more bytes, the channel is out
    /// of step with its sshccd and is not reused.
    public mutating func replyComplete(now: UInt64, trailingBytes: Bool) -> [Action] {
        guard let job else { return [] }
        if phase == .sending || trailingBytes || oneJob { retiring = true }
        self.job = nil
        phase = retiring ? .retired : .idle
        return [.succeeded(job, nanoseconds: now - started)]
    }

    public mutating func replyMalformed(_ reason: String) -> [Action] {
        retiring = true
        phase = .retired
        return take().map { [.failed($0, .badReply(reason))] } ?? []
    }

    /// sshccd's output ended (or reading the channel failed): with a job, its exit status tells the rest.
    public mutating func outputEnded() {
        retiring = true
        if phase != .retired { phase = job == nil ? .retired : .closing }
    }

    /// The channel closed with sshccd's exit `status` (nil: unknown).
    public mutating func closed(status: Int32?) -> [Action] {
        phase = .retired
        retiring = true
        guard let job = take() else { return [] }
        if status == ExitCode.protocolError.rawValue && !replyStarted && version != .plain {
            // A valid compressed request is a protocol error only to a server that does not speak its version.
            return [.versionRefused(job, version: version)]
        }
        return [.failed(job, status == 127 ? .serverMissing : .ended(status: status))]
    }

    /// The wrapper withdrew the job (its preprocessing failed): a request without its answer is on the
    /// channel, which is therefore not reused. Nothing is reported: nobody waits for the job.
    public mutating func withdraw() {
        _ = take()
        retiring = true
        phase = .retired
    }

    /// The connection under the channel broke.
    public mutating func connectionLost(_ reason: String) -> [Action] {
        phase = .retired
        retiring = true
        return take().map { [.failed($0, .connectionLost(reason))] } ?? []
    }

    /// A job with no progress for `timeout` nanoseconds fails, and the channel with it. Waiting for the
    /// wrapper's source is not a stall: preprocessing takes what it takes.
    public mutating func tick(now: UInt64, timeout: UInt64) -> [Action] {
        if awaitingSource { lastProgress = now }
        guard job != nil, now > lastProgress, now - lastProgress > timeout else { return [] }
        phase = .retired
        retiring = true
        return [.failed(take()!, .stalled(seconds: Int(timeout / 1_000_000_000)))]
    }

    private mutating func take() -> Job? {
        defer { job = nil }
        return job
    }
}
