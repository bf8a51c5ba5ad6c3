// Which job runs where, as a pure state machine: the daemon feeds it events (a job arrived, a job ended,
// a host went down or came back) and performs the actions it returns. No threads, clocks or sockets here,
// so every rule below has a unit test.
//
// Rules: a job goes to the pool with the most free slots among its hosts that are up; when every slot is
// busy it waits, first come first served; a job whose host failed goes to another host
// (Scheduler.remoteAttempts in all), after that the wrapper compiles it locally. A job whose channel alone
// failed (its sshccd died) may go to any host again, the same one included, a few times
// (Scheduler.channelRetries) before that counts as its host failing it. A job whose compiler is known by
// its toolchain identity goes only to hosts not found to have a different one for it (sshccd says so when
// a job reaches it: the job then goes elsewhere without counting as tried); when every host differs the
// wrapper compiles locally. A host that refused a job for every job of its compiler (not allowed, not
// installed there) gets no more jobs of that compiler until the refusal is forgotten (after the backoff); one
// that refused it for every job (its configuration) is set down by its driver. Either way the refused job
// goes elsewhere without counting as tried.

import CompileCore

/// A pool of slots: one remote host as reached with one wrapper's credentials, or the local machine.
public struct PoolKey: Hashable, Sendable, CustomStringConvertible {
    /// The host spec as written (`user@host:port/slots`), or "localhost" for local slots.
    public var host: String
    /// nil for local slots.
    public var access: HostAccess?

    public init(host: String, access: HostAccess?) {
        self.host = host
        self.access = access
    }

    public var isLocal: Bool { access == nil }
    public var description: String { host }
}

public struct Scheduler {
    /// A remote host is tried this many times per job (first choice plus one retry), then the wrapper
    /// compiles locally.
    public static let remoteAttempts = 2
    /// Channel failures a job survives without its host counting as tried.
    public static let channelRetries = 2

    public struct Pool: Sendable {
        public var slots: Int
        public var busy = 0
        /// Why the host is backed off; nil while it is up.
        public var down: SSHCCFailure?
        public var up: Bool { down == nil }
    }

    /// A job as the scheduler sees it: which pools may take it and which already failed it.
    public struct Ticket: Sendable, Equatable {
        public let id: Int
        public let pools: [PoolKey]
        public var tried: [PoolKey] = []
        /// Channel failures so far (see `channelRetries`).
        public var channelFaults = 0
        /// The compiler's name and the client's toolchain digest (`gcc 1f2e…`); nil: not checked.
        public let toolchain: String?
        /// The compiler's name as the command line gives it (`gcc`, `x86_64-linux-gnu-g++-12`).
        public let compiler: String

        public init(id: Int, pools: [PoolKey], toolchain: String? = nil, compiler: String = "") {
            self.id = id
            self.pools = pools
            self.toolchain = toolchain
            self.compiler = compiler
        }
    }

    public enum FailReason: Sendable, Equatable {
        /// Every host of the job is backed off (or none is remote and no local slot exists).
        case noHostUp
        /// The job failed on `remoteAttempts` hosts, or on every host it has.
        case retriesExhausted
        /// Every host that is up has another toolchain for the job's compiler.
        case toolchainDiffers
        /// Every host that is up refuses the job's compiler (`refusals`).
        case compilerRefused
    }

    public enum Action: Sendable, Equatable {
        case dispatch(Ticket, to: PoolKey)
        case fail(Ticket, FailReason)
    }

    public private(set) var pools: [PoolKey: Pool] = [:]
    public private(set) var queue: [Ticket] = []
    /// Which pool runs each dispatched job.
    public private(set) var running: [Int: PoolKey] = [:]
    /// What each pool's server said of a toolchain (compiler name and digest): true the same, false another.
    public private(set) var toolchains: [PoolKey: [String: Bool]] = [:]
    /// Compilers each pool's server refuses every job of, and why.
    public private(set) var refusals: [PoolKey: [String: SSHCCFailure]] = [:]

    public init() {}

    /// Makes `key` known with `slots`; an existing pool keeps its state (a changed slot count applies).
    public mutating func addPool(_ key: PoolKey, slots: Int) {
        pools[key, default: Pool(slots: slots)].slots = max(1, slots)
    }

    /// A new job: dispatched at once when a slot is free, else queued behind earlier jobs.
    public mutating func submit(_ ticket: Ticket) -> [Action] {
        queue.append(ticket)
        return pump()
    }

    /// The job ended on its pool (whatever the compile's result): the slot is free again.
    public mutating func finished(_ id: Int) -> [Action] {
        free(id)
        return pump()
    }

    /// The job failed where it ran. It goes to the front of the queue: charged to the host, for another
    /// host, or fails when its attempts are used up; charged to the channel, for any host.
    public mutating func failed(_ ticket: Ticket, charge: FailureCharge = .host) -> [Action] {
        guard let pool = running[ticket.id] else { return pump() }
        free(ticket.id)
        var retried = ticket
        if charge == .channel && retried.channelFaults < Self.channelRetries {
            retried.channelFaults += 1
        } else {
            retried.tried.append(pool)
        }
        queue.insert(retried, at: 0)
        return pump()
    }

    /// The job reached a server whose compiler differs from the client's: that pool is not used for this
    /// toolchain again, and the job goes to another (not counting as tried there).
    public mutating func toolchainDiffers(_ ticket: Ticket) -> [Action] {
        guard let pool = running[ticket.id] else { return pump() }
        free(ticket.id)
        if let toolchain = ticket.toolchain { toolchains[pool, default: [:]][toolchain] = false }
        queue.insert(ticket, at: 0)
        return pump()
    }

    /// The job was refused where it ran for a reason wider than the job: its compiler there (`compiler`,
    /// remembered until `forgetRefusal`) or the whole host (nil: its driver sets it down). It goes elsewhere,
    /// not counting as tried.
    public mutating func refused(_ ticket: Ticket, compiler failure: SSHCCFailure?) -> [Action] {
        guard let pool = running[ticket.id] else { return pump() }
        free(ticket.id)
        if let failure { refusals[pool, default: [:]][ticket.compiler] = failure }
        queue.insert(ticket, at: 0)
        return pump()
    }

    /// `pool` may get jobs of `compiler` again (its refusal's backoff is over).
    public mutating func forgetRefusal(_ pool: PoolKey, compiler: String) -> [Action] {
        refusals[pool]?[compiler] = nil
        return pump()
    }

    /// A job with `toolchain` compiled on `pool`: its server has the same.
    public mutating func toolchainMatched(_ toolchain: String, on pool: PoolKey) {
        toolchains[pool, default: [:]][toolchain] = true
    }

    /// The job's wrapper left before it ended (its preprocessing failed): dropped wherever it is.
    public mutating func cancelled(_ id: Int) -> [Action] {
        queue.removeAll { $0.id == id }
        free(id)
        return pump()
    }

    /// A host went down (backed off, `because`) or came back (nil).
    public mutating func setDown(_ key: PoolKey, because failure: SSHCCFailure?) -> [Action] {
        pools[key]?.down = failure
        return pump()
    }

    /// The pools a ticket may still use: up, not tried, known.
    func candidates(_ ticket: Ticket) -> [PoolKey] {
        ticket.pools.filter {
            pools[$0]?.up == true && !ticket.tried.contains($0) && !differs($0, ticket) && !refuses($0, ticket)
        }
    }

    func refuses(_ pool: PoolKey, _ ticket: Ticket) -> Bool { refusals[pool]?[ticket.compiler] != nil }

    func differs(_ pool: PoolKey, _ ticket: Ticket) -> Bool {
        ticket.toolchain.map { toolchains[pool]?[$0] == false } ?? false
    }

    private mutating func free(_ id: Int) {
        if let pool = running.removeValue(forKey: id) { pools[pool]?.busy -= 1 }
    }

    /// Dispatches queued jobs in arrival order while slots are free; fails those no pool can ever take.
    private mutating func pump() -> [Action] {
        var actions: [Action] = []
        var waiting: [Ticket] = []
        for ticket in queue {
            let remoteTries = ticket.tried.filter { !$0.isLocal }.count
            let options = candidates(ticket)
            if options.isEmpty || remoteTries >= Self.remoteAttempts {
                let differing = ticket.pools.contains { pools[$0]?.up == true && differs($0, ticket) }
                let refusing = ticket.pools.contains { pools[$0]?.up == true && refuses($0, ticket) }
                let reason: FailReason =
                    options.isEmpty && differing
                    ? .toolchainDiffers
                    : options.isEmpty && refusing
                        ? .compilerRefused : ticket.tried.isEmpty ? .noHostUp : .retriesExhausted
                actions.append(.fail(ticket, reason))
                continue
            }
            // Most free slots first; on a tie, the host listed first.
            var best: PoolKey?
            var bestFree = 0
            for key in options {
                let pool = pools[key]!
                let free = pool.slots - pool.busy
                if free > bestFree {
                    best = key
                    bestFree = free
                }
            }
            guard let best else {
                waiting.append(ticket)
                continue
            }
            pools[best]!.busy += 1
            running[ticket.id] = best
            actions.append(.dispatch(ticket, to: best))
        }
        queue = waiting
        return actions
    }
}
