// Which job runs where, as a pure state machine: the daemon feeds it events (a job arrived, a job ended, a
// host went down or came back, a server reported its load) and performs the actions it returns. No threads,
// clocks or sockets here — the daemon sets `now` before each event — so every rule has a unit test.
//
// Placement (Placement.swift): a job goes where it is expected to finish first — from each host's free slots
// as its server reports them (other users' jobs count; the declared `/slots` is a ceiling), its learned speed
// scaled by the job's size, and its link's cost. A job that would finish sooner by waiting for a fast host's
// slot waits (in this queue, first come first served; reserving that slot for it) rather than going to a slow
// host now. A host whose server speaks load reports gets no job until its first report. When the queue is
// empty, a job expected to finish much later where it runs (a slow host, or one that held it back) is
// raced by a copy on a host that is idle now; the first result wins and the other copy is withdrawn.
//
// Failures: a job whose host failed goes to another host (Scheduler.remoteAttempts in all), after that the
// wrapper compiles it locally. A job whose channel alone failed (its sshccd died) may go to any host again,
// the same one included, a few times (Scheduler.channelRetries) before that counts as its host failing it. A
// job whose compiler is known by its toolchain identity goes only to hosts not found to have a different one
// for it (sshccd says so when a job reaches it: the job then goes elsewhere without counting as tried); when
// every host differs the wrapper compiles locally. A host that refused a job for every job of its compiler
// (not allowed, not installed there) gets no more jobs of that compiler until the refusal is forgotten (after
// the backoff); one that refused it for every job (its configuration) is set down by its driver. Either way
// the refused job goes elsewhere without counting as tried.

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

    /// The host spec alone: keys are looked up in every placement pass, and two keys with one spec but
    /// different access are rare (equality still compares both).
    public func hash(into hasher: inout Hasher) { hasher.combine(host) }
}

public struct Scheduler {
    /// A remote host is tried this many times per job (first choice plus one retry), then the wrapper
    /// compiles locally.
    public static let remoteAttempts = 2
    /// Channel failures a job survives without its host counting as tried.
    public static let channelRetries = 2

    public struct Pool: Sendable {
        /// The declared slots (`/N`): at most this many of this daemon's jobs run there at once.
        public var slots: Int
        /// This daemon's jobs there now (raced copies included).
        public var busy = 0
        /// Why the host is backed off; nil while it is up.
        public var down: SSHCCFailure?
        /// The latest load its server reported (nil: none yet, or a server that does not report it).
        public var load: ServerLoad?
        /// Its server reports load and none has come yet: no job goes there until one does.
        public var awaitingLoad = false
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
        /// Bytes of preprocessed source, once the wrapper has sent all of it (nil: still coming).
        public var size: Int?
        /// What the same job has in common wherever and whoever builds it (its command line): among hosts
        /// that would finish it about as soon, it goes to the one this names (rendezvous hashing), where an
        /// earlier build of it most likely left its answer in the server's object cache. Nil: no preference.
        public let affinity: String?

        public init(
            id: Int, pools: [PoolKey], toolchain: String? = nil, compiler: String = "", size: Int? = nil,
            affinity: String? = nil
        ) {
            self.id = id
            self.pools = pools
            self.toolchain = toolchain
            self.compiler = compiler
            self.size = size
            self.affinity = affinity
        }
    }

    /// One copy of a job on a pool: since when, and how long it was expected to take there.
    public struct Placement: Sendable, Equatable {
        public var pool: PoolKey
        public var started: Double
        public var expected: Double
        /// What the ticket looked like when it went (its size may come later: `sized`).
        public var ticket: Ticket
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
        /// Run the job on the pool; a job already running elsewhere gets a second copy there (a race).
        case dispatch(Ticket, to: PoolKey)
        case fail(Ticket, FailReason)
        /// Stop the job's copy on the pool (another copy finished first); its slot is already counted free.
        case withdraw(Int, from: PoolKey)
    }

    /// What one finished job tells of its host (seconds).
    public struct Observation: Sendable, Equatable {
        /// How long the server's compiler ran (nil: not reported; the whole time counts).
        public var compile: Double?
        /// How long the job took as this daemon saw it, from the head going out to the whole reply.
        public var total: Double
        /// How long it waited for a slot on the server.
        public var waited: Double

        public init(compile: Double?, total: Double, waited: Double = 0) {
            self.compile = compile
            self.total = total
            self.waited = waited
        }
    }

    /// The time (seconds, any monotonic origin) of the event being fed; the daemon sets it before each.
    public var now: Double = 0
    public private(set) var pools: [PoolKey: Pool] = [:]
    public private(set) var queue: [Ticket] = []
    /// Where each dispatched job runs: one placement, or two while raced.
    public private(set) var running: [Int: [Placement]] = [:]
    /// What each pool's server said of a toolchain (compiler name and digest): true the same, false another.
    public private(set) var toolchains: [PoolKey: [String: Bool]] = [:]
    /// Compilers each pool's server refuses every job of, and why.
    public private(set) var refusals: [PoolKey: [String: SSHCCFailure]] = [:]
    /// Each host's learned speed, by host (`PoolKey.host`); the daemon keeps it across builds.
    public var speeds: [String: HostSpeed] = [:]
    /// The usual job size (bytes, a moving average): the size assumed while a job's source is still coming.
    public private(set) var usualSize = 65536

    public init() {}

    /// Makes `key` known with `slots`; an existing pool keeps its state (a changed slot count applies).
    /// `awaitsLoad`: its server reports load, and no job goes there before its first report.
    public mutating func addPool(_ key: PoolKey, slots: Int, awaitsLoad: Bool = false) {
        if pools[key] == nil { pools[key] = Pool(slots: max(1, slots), awaitingLoad: awaitsLoad) }
        pools[key]!.slots = max(1, slots)
    }

    /// A new job: dispatched at once when a slot is free, else queued behind earlier jobs.
    public mutating func submit(_ ticket: Ticket) -> [Action] {
        queue.append(ticket)
        return pump()
    }

    /// The job's whole source has come: `bytes` long (placement scales its expected time by it).
    public mutating func sized(_ id: Int, bytes: Int) -> [Action] {
        if let index = queue.firstIndex(where: { $0.id == id }) { queue[index].size = bytes }
        usualSize += (bytes - usualSize) / 8
        if var placements = running[id] {
            for index in placements.indices {
                placements[index].ticket.size = bytes
                placements[index].expected = cost(placements[index].ticket, on: placements[index].pool)
            }
            running[id] = placements
        }
        return pump()
    }

    /// The job ended on `pool` (whatever the compile's result; nil: its only pool): its slots are free again,
    /// and a copy still running elsewhere is withdrawn. `observation` teaches the pool's speed.
    public mutating func finished(_ id: Int, on pool: PoolKey? = nil, observation: Observation? = nil) -> [Action] {
        let placements = running.removeValue(forKey: id) ?? []
        var actions: [Action] = []
        for placement in placements {
            let bytes = placement.ticket.size ?? usualSize
            if placement.pool == (pool ?? placement.pool) {
                if let observation { learn(placement.pool, bytes: bytes, observation) }
            } else {
                // The loser of a race: still running after this long.
                var speed = speed(of: placement.pool)
                speed.atLeast(bytes: bytes, elapsed: now - placement.started)
                speeds[placement.pool.host] = speed
                actions.append(.withdraw(id, from: placement.pool))
            }
        }
        return actions + pump()
    }

    /// The job failed where it ran (`pool`, nil: its only pool). While another copy of it runs, that copy
    /// carries on. Otherwise it goes to the front of the queue: charged to the host, for another host, or
    /// fails when its attempts are used up; charged to the channel, for any host.
    public mutating func failed(_ ticket: Ticket, on pool: PoolKey? = nil, charge: FailureCharge = .host) -> [Action] {
        guard let removed = remove(ticket.id, on: pool) else { return pump() }
        let failedPool = removed.pool
        if var others = running[ticket.id] {
            // The copy still running carries on; it is not raced on the failed host again.
            for index in others.indices { others[index].ticket.tried.append(failedPool) }
            running[ticket.id] = others
            return pump()
        }
        // The ticket as the scheduler last knew it (its size, the hosts a raced copy failed on).
        var retried = removed.ticket
        if charge == .channel && retried.channelFaults < Self.channelRetries {
            retried.channelFaults += 1
        } else {
            retried.tried.append(failedPool)
        }
        queue.insert(retried, at: 0)
        return pump()
    }

    /// The job reached a server whose compiler differs from the client's: that pool is not used for this
    /// toolchain again, and the job goes to another (not counting as tried there).
    public mutating func toolchainDiffers(_ ticket: Ticket, on pool: PoolKey? = nil) -> [Action] {
        guard let failedPool = remove(ticket.id, on: pool)?.pool else { return pump() }
        if let toolchain = ticket.toolchain { toolchains[failedPool, default: [:]][toolchain] = false }
        if running[ticket.id] == nil { queue.insert(ticket, at: 0) }
        return pump()
    }

    /// The job was refused where it ran for a reason wider than the job: its compiler there (`compiler`,
    /// remembered until `forgetRefusal`) or the whole host (nil: its driver sets it down). It goes elsewhere,
    /// not counting as tried.
    public mutating func refused(_ ticket: Ticket, on pool: PoolKey? = nil, compiler failure: SSHCCFailure?)
        -> [Action]
    {
        guard let failedPool = remove(ticket.id, on: pool)?.pool else { return pump() }
        if let failure { refusals[failedPool, default: [:]][ticket.compiler] = failure }
        if running[ticket.id] == nil { queue.insert(ticket, at: 0) }
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
        running[id] = nil
        return pump()
    }

    /// A host went down (backed off, `because`) or came back (nil).
    public mutating func setDown(_ key: PoolKey, because failure: SSHCCFailure?) -> [Action] {
        pools[key]?.down = failure
        return pump()
    }

    /// The server of `key` reported its load (nil: it cannot; the declared slots are believed).
    public mutating func loadReported(_ key: PoolKey, _ load: ServerLoad?) -> [Action] {
        pools[key]?.load = load
        pools[key]?.awaitingLoad = false
        return pump()
    }

    /// Placement looked at again (time passed: a slot reserved for a waiting job may be better given now).
    public mutating func tick() -> [Action] { pump() }

    /// The pools a ticket may still use: up, reporting (or not meant to), not tried, known.
    func candidates(_ ticket: Ticket) -> [PoolKey] {
        ticket.pools.filter {
            pools[$0]?.up == true && pools[$0]?.awaitingLoad == false && !ticket.tried.contains($0)
                && !differs($0, ticket) && !refuses($0, ticket)
        }
    }

    func refuses(_ pool: PoolKey, _ ticket: Ticket) -> Bool { refusals[pool]?[ticket.compiler] != nil }

    func differs(_ pool: PoolKey, _ ticket: Ticket) -> Bool {
        ticket.toolchain.map { toolchains[pool]?[$0] == false } ?? false
    }

    /// Drops the job's copy on `pool` (nil: its only one); the copy, nil when the job was not running there.
    /// Its slot counts as free at the next pump (which every event ends with).
    private mutating func remove(_ id: Int, on pool: PoolKey?) -> Placement? {
        guard var placements = running[id],
            let index = placements.firstIndex(where: { pool == nil || $0.pool == pool })
        else { return nil }
        let removed = placements.remove(at: index)
        running[id] = placements.isEmpty ? nil : placements
        return removed
    }

    private mutating func learn(_ pool: PoolKey, bytes: Int, _ observation: Observation) {
        speeds[pool.host, default: HostSpeed(compileSeconds: 0, overheadSeconds: 0, samples: 0)].learn(
            bytes: bytes, compile: observation.compile, total: observation.total, waited: observation.waited)
    }

    /// Places queued jobs in arrival order (Placement.swift); fails those no pool can ever take; races
    /// stragglers when nothing waits.
    private mutating func pump() -> [Action] {
        // Each pool's count of this daemon's jobs, from the copies that run (`place` adds to it within the pass).
        var counts: [PoolKey: Int] = [:]
        for placement in running.values.joined() { counts[placement.pool, default: 0] += 1 }
        for key in pools.keys { pools[key]!.busy = counts[key] ?? 0 }
        var actions: [Action] = []
        var waiting: [Ticket] = []
        var timelines = Timelines()
        for ticket in queue {
            let remoteTries = ticket.tried.filter { !$0.isLocal }.count
            let options = candidates(ticket)
            if options.isEmpty || remoteTries >= Self.remoteAttempts {
                let awaiting = ticket.pools.contains {
                    pools[$0]?.up == true && pools[$0]?.awaitingLoad == true && !ticket.tried.contains($0)
                }
                if awaiting && remoteTries < Self.remoteAttempts {
                    waiting.append(ticket)  // a host still connecting: it will report soon
                    continue
                }
                actions.append(.fail(ticket, failReason(ticket, options)))
                continue
            }
            // A host still to tell its load is weighed too (by its declared slots and what it is known to be
            // like): when it would be best, the job waits for its report rather than go elsewhere now.
            let pending = ticket.pools.filter {
                pools[$0]?.up == true && pools[$0]?.awaitingLoad == true && !ticket.tried.contains($0)
                    && !differs($0, ticket) && !refuses($0, ticket)
            }
            let choice = best(ticket, among: options + pending, awaiting: Set(pending), &timelines)
            timelines.take(choice)
            if choice.start <= now && !pending.contains(choice.pool) {
                place(ticket, on: choice.pool, expected: choice.finish - now)
                actions.append(.dispatch(ticket, to: choice.pool))
            } else {
                waiting.append(ticket)  // the slot it waits for is kept for it in `timelines`
            }
        }
        queue = waiting
        if queue.isEmpty { actions += raceStragglers() }
        return actions
    }

    mutating func place(_ ticket: Ticket, on pool: PoolKey, expected: Double) {
        pools[pool]!.busy += 1
        running[ticket.id, default: []].append(
            Placement(pool: pool, started: now, expected: expected, ticket: ticket))
    }

    private func failReason(_ ticket: Ticket, _ options: [PoolKey]) -> FailReason {
        let differing = ticket.pools.contains { pools[$0]?.up == true && differs($0, ticket) }
        let refusing = ticket.pools.contains { pools[$0]?.up == true && refuses($0, ticket) }
        if options.isEmpty && differing { return .toolchainDiffers }
        if options.isEmpty && refusing { return .compilerRefused }
        return ticket.tried.isEmpty ? .noHostUp : .retriesExhausted
    }
}
