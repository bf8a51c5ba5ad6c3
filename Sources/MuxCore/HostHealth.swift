// A compile host's connections and health as a pure state machine: the host's driver reports what its
// connections did; this decides when to connect, when the host is backed off and for how long, and when it
// takes jobs again. The driver performs the actions and the scheduler mirrors up and down.
//
// Failures are charged to what failed. A failed connection attempt backs the host off — jittered and growing
// (1, 2, 4 … s up to the cap) after a network failure; the whole cap after a refusal (host key, login,
// sessions or subsystem refused), never retried by itself: a retried login failure is what gets an address
// blocked (OpenSSH's PerSourcePenalties). The first network failure of a streak — the host worked since the
// last one, or was never tried — is retried once at once (a link that dropped every connection is usually
// back by then). A connection that breaks is replaced at once when a job needs it
// (a killed sshd session, a server that restarted); only a second break in a row with no job done between
// backs the host off. One sshccd dying is its channel's failure, not the host's: only many in a row with
// no job done (every sshccd dies) back the host off.

import CompileCore

public struct HostHealth: Sendable {
    public enum Action: Equatable, Sendable {
        /// Start one connection attempt.
        case connect
        /// The host takes no jobs for `seconds`; jobs waiting for it go elsewhere. `wasUp`: it just went down.
        case down(SSHCCFailure, seconds: Double, wasUp: Bool)
        /// The backoff is over (or a connection came): the host takes jobs again.
        case up
    }

    /// Channel failures in a row, with no job done between, that show the host itself is failing.
    public static let channelFaultLimit = 6
    /// Busy connections lost in a row, with no job done between, that back the host off.
    public static let breakLimit = 2

    public private(set) var connections = 0
    public private(set) var connecting = false
    public private(set) var downUntil: UInt64?
    private var attemptsFailed = 0
    /// No attempt failed since a connection last worked (or ever): the next network failure is retried at once.
    private var workedSinceFailure = true
    private var breaks = 0
    private var channelFaults = 0
    /// SSHCC_BACKOFF: the longest a host stays down.
    public let cap: Double

    public init(cap: Double) { self.cap = cap }

    public var isDown: Bool { downUntil != nil }

    // MARK: Events

    /// A job waits for the host: connect, unless a connection exists or is coming or the host is down.
    public mutating func jobWaiting() -> [Action] {
        guard connections == 0, !connecting, downUntil == nil else { return [] }
        connecting = true
        return [.connect]
    }

    /// The connections are full (sshd's MaxSessions) and the host has slots to spare: one more.
    public mutating func needAnotherConnection() -> [Action] {
        guard !connecting, downUntil == nil else { return [] }
        connecting = true
        return [.connect]
    }

    public mutating func connected() -> [Action] {
        connecting = false
        connections += 1
        attemptsFailed = 0
        workedSinceFailure = true
        guard downUntil != nil else { return [] }
        downUntil = nil
        return [.up]
    }

    /// A connection attempt failed. With another connection still up the host stays in use.
    public mutating func connectFailed(_ failure: SSHCCFailure, now: UInt64, jitter: Double) -> [Action] {
        connecting = false
        guard connections == 0 else { return [] }
        if failure.code == .connectFailed && workedSinceFailure {
            workedSinceFailure = false
            connecting = true
            return [.connect]
        }
        workedSinceFailure = false
        attemptsFailed += 1
        return goDown(
            failure, now: now, seconds: Self.window(failure, inARow: attemptsFailed, cap: cap, jitter: jitter))
    }

    /// A connection broke; `busy` when it carried jobs (they go back to the scheduler, charged to the channel).
    public mutating func connectionLost(_ failure: SSHCCFailure, busy: Bool, now: UInt64, jitter: Double) -> [Action] {
        connections = max(0, connections - 1)
        guard busy else { return [] }
        breaks += 1
        guard breaks >= Self.breakLimit, downUntil == nil else { return [] }
        attemptsFailed += 1
        return goDown(
            failure, now: now, seconds: Self.window(failure, inARow: attemptsFailed, cap: cap, jitter: jitter))
    }

    /// The host refused what sshcc needs of it (sessions, the subsystem, sshccd missing): the whole cap.
    public mutating func refused(_ failure: SSHCCFailure, now: UInt64) -> [Action] {
        return goDown(failure, now: now, seconds: cap)
    }

    /// A fresh connection got not one channel (sshd allows no session): it is dropped and the host refused.
    public mutating func sessionsRefused(_ failure: SSHCCFailure, now: UInt64) -> [Action] {
        connections = max(0, connections - 1)
        return refused(failure, now: now)
    }

    /// A job failed on one of the host's channels.
    public mutating func jobFailed(_ failure: SSHCCFailure, charge: FailureCharge, now: UInt64, jitter: Double)
        -> [Action]
    {
        switch charge {
        case .host:
            attemptsFailed += 1
            return goDown(
                failure, now: now, seconds: Self.window(failure, inARow: attemptsFailed, cap: cap, jitter: jitter))
        case .channel:
            channelFaults += 1
            guard channelFaults >= Self.channelFaultLimit, downUntil == nil else { return [] }
            return goDown(failure, now: now, seconds: cap)
        }
    }

    public mutating func jobSucceeded() {
        breaks = 0
        channelFaults = 0
    }

    /// The clock moved: a backoff that is over makes the host usable again (the next job connects).
    public mutating func tick(now: UInt64) -> [Action] {
        guard let until = downUntil, now >= until else { return [] }
        downUntil = nil
        breaks = 0
        channelFaults = 0
        return [.up]
    }

    private mutating func goDown(_ failure: SSHCCFailure, now: UInt64, seconds: Double) -> [Action] {
        let wasUp = downUntil == nil
        downUntil = now + UInt64(seconds * 1e9)
        return [.down(failure, seconds: seconds, wasUp: wasUp)]
    }

    /// Seconds a host stays backed off: the whole `cap` after a refusal (retrying soon cannot help and may get
    /// the address penalised); after a network failure 1 s, doubling with each failure in a row up to `cap`,
    /// spread by `jitter` so that many clients of one server do not come back in step.
    public static func window(_ failure: SSHCCFailure, inARow: Int, cap: Double, jitter: Double) -> Double {
        guard failure.code == .connectFailed else { return cap }
        let growing = Double(1 << min(max(inARow - 1, 0), 20))
        return min(cap, growing * jitter)
    }
}
