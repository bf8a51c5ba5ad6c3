// Which job runs where, as a pure state machine: the daemon feeds it events (a job arrived, a job ended,
// a host went down or came back) and performs the actions it returns. No threads, clocks or sockets here,
// so every rule below has a unit test.
//
// Rules (issue 3): a job goes to the pool with the most free slots among its hosts that are up; when
// every slot is busy it waits, first come first served; a job whose host failed goes to another host
// (Scheduler.remoteAttempts in all), after that the wrapper compiles it locally.

import DequeModule

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

    public struct Pool: Sendable {
        public var slots: Int
        public var busy = 0
        /// False while the host is backed off after a failure.
        public var up = true
    }

    /// A job as the scheduler sees it: which pools may take it and which already failed it.
    public struct Ticket: Sendable, Equatable {
        public let id: Int
        public let pools: [PoolKey]
        public var tried: [PoolKey] = []

        public init(id: Int, pools: [PoolKey]) {
            self.id = id
            self.pools = pools
        }
    }

    public enum FailReason: Sendable, Equatable {
        /// Every host of the job is backed off (or none is remote and no local slot exists).
        case noHostUp
        /// The job failed on `remoteAttempts` hosts, or on every host it has.
        case retriesExhausted
    }

    public enum Action: Sendable, Equatable {
        case dispatch(Ticket, to: PoolKey)
        case fail(Ticket, FailReason)
    }

    public private(set) var pools: [PoolKey: Pool] = [:]
    public private(set) var queue = Deque<Ticket>()
    /// Which pool runs each dispatched job.
    public private(set) var running: [Int: PoolKey] = [:]

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

    /// The job's host failed it (connection, channel or sshccd died, bad reply). It goes to the front
    /// of the queue for another host, or fails when its attempts are used up.
    public mutating func failed(_ ticket: Ticket) -> [Action] {
        guard let pool = running[ticket.id] else { return pump() }
        free(ticket.id)
        var retried = ticket
        retried.tried.append(pool)
        queue.prepend(retried)
        return pump()
    }

    /// The job's wrapper left before it ended (its preprocessing failed): dropped wherever it is.
    public mutating func cancelled(_ id: Int) -> [Action] {
        queue.removeAll { $0.id == id }
        free(id)
        return pump()
    }

    /// A host went down (backed off) or came back.
    public mutating func setUp(_ key: PoolKey, _ up: Bool) -> [Action] {
        pools[key]?.up = up
        return pump()
    }

    /// The pools a ticket may still use: up, not tried, known.
    func candidates(_ ticket: Ticket) -> [PoolKey] {
        ticket.pools.filter { pools[$0]?.up == true && !ticket.tried.contains($0) }
    }

    private mutating func free(_ id: Int) {
        if let pool = running.removeValue(forKey: id) { pools[pool]?.busy -= 1 }
    }

    /// Dispatches queued jobs in arrival order while slots are free; fails those no pool can ever take.
    private mutating func pump() -> [Action] {
        var actions: [Action] = []
        var waiting = Deque<Ticket>()
        while let ticket = queue.popFirst() {
            let remoteTries = ticket.tried.filter { !$0.isLocal }.count
            let options = candidates(ticket)
            if options.isEmpty || remoteTries >= Self.remoteAttempts {
                actions.append(.fail(ticket, ticket.tried.isEmpty ? .noHostUp : .retriesExhausted))
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
