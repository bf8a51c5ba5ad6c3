// Where a job is expected to finish first, and which running jobs a free host should race. Pure, on the
// scheduler's state: each pool is seen as a timeline of slots (when each next becomes free for this daemon),
// and a job's cost on a pool is its learned speed for the job's size plus its link's overhead.

import CompileCore

extension Scheduler {
    /// A pool chosen for a job: when its slot is free and when the job would be done there.
    struct Choice {
        var pool: PoolKey
        var start: Double
        var finish: Double
    }

    /// When each usable slot of each pool becomes free (ascending), built on first use within one pass and
    /// updated as the pass gives slots to jobs, so that later jobs in the queue see the earlier ones' claims.
    struct Timelines {
        var times: [PoolKey: [Double]] = [:]

        mutating func take(_ choice: Choice) {
            guard var slots = times[choice.pool], !slots.isEmpty else { return }
            slots.removeFirst()
            let index = slots.firstIndex { $0 > choice.finish } ?? slots.count
            slots.insert(choice.finish, at: index)
            times[choice.pool] = slots
        }
    }

    /// The expected seconds of `ticket` on `key`: its compile at the pool's speed (the usual speed of known
    /// hosts while this one is unknown) for the job's size, plus the pool's overhead.
    public func cost(_ ticket: Ticket, on key: PoolKey) -> Double {
        speed(of: key).seconds(for: ticket.size ?? usualSize)
    }

    /// The pool's learned speed, or the mean of the known ones (1 s per usual job when none is known).
    public func speed(of key: PoolKey) -> HostSpeed {
        if let known = speeds[key.host] { return known }
        let known = pools.keys.compactMap { speeds[$0.host] }
        guard !known.isEmpty else { return HostSpeed(compileSeconds: 1, overheadSeconds: 0, samples: 0) }
        let count = Double(known.count)
        return HostSpeed(
            compileSeconds: known.reduce(0) { $0 + $1.compileSeconds } / count,
            overheadSeconds: known.reduce(0) { $0 + $1.overheadSeconds } / count, samples: 0)
    }

    /// Whether the pool's server may hold one of this daemon's jobs in its queue, as it last reported: other
    /// accounts wait there, or fewer of this account's jobs run there than this daemon has placed.
    func mayQueue(_ key: PoolKey) -> Bool {
        guard let load = pools[key]?.load else { return false }
        // `busy`: this daemon's copies running there, kept by the pump (not counted over every placement).
        return load.waiting > 0 || load.mine < (pools[key]?.busy ?? 0)
    }

    /// Whether the server of `key` should be asked its load now: jobs wait here for a slot, or a job of this
    /// daemon runs there past its expected time (is it queued there, or compiling late?).
    public func wantsLoad(_ key: PoolKey) -> Bool {
        !queue.isEmpty || running.values.joined().contains { $0.pool == key && $0.started + $0.expected < now }
    }

    /// How many jobs of this daemon the pool may run at once: the declared slots, or fewer when its server
    /// has fewer (never below what already runs there).
    public func capacity(of key: PoolKey) -> Int {
        guard let pool = pools[key] else { return 0 }
        return max(pool.busy, min(pool.slots, pool.load?.slots ?? pool.slots))
    }

    /// Slots of the pool free for this daemon now: within its capacity, less what other users hold or wait
    /// for on the server (they get a freed slot before this daemon's next job would).
    public func freeNow(_ key: PoolKey) -> Int {
        guard let pool = pools[key] else { return 0 }
        let serverSlots = pool.load?.slots ?? pool.slots
        let others = pool.load.map { $0.others + $0.waiting } ?? 0
        return max(0, min(capacity(of: key), serverSlots - others) - pool.busy)
    }

    /// The pool's slots as a timeline: this daemon's running jobs end when expected, free slots are free now,
    /// and slots other users hold are guessed free after one usual job of that host. Only a free slot is free
    /// now: a running job is never taken as done before it is.
    func timeline(_ key: PoolKey) -> [Double] {
        let pool = pools[key]!
        var times = running.values.joined().filter { $0.pool == key }.map { expectedEnd($0) }
        let free = freeNow(key)
        times += Array(repeating: now, count: free)
        let held = max(0, capacity(of: key) - pool.busy - free)
        times += Array(repeating: now + speed(of: key).seconds(for: usualSize), count: held)
        return times.sorted()
    }

    /// Finishes this close (a share of the job's cost) are "about as soon" for a job with an affinity.
    static let affinityWindow = 0.1

    /// The rendezvous score of `affinity` on `host`: the highest score among hosts names the job's home.
    static func rendezvous(_ affinity: String, _ host: String) -> UInt64 {
        TextHash.mixed(TextHash.fnv1a64(affinity + "\u{0}" + host))
    }

    /// What waiting for a host's first load report is taken to cost (a question's round trip on a channel
    /// still opening): with nothing else to tell them apart, a host that has reported wins.
    static let reportWait = 0.05

    /// The pool among `options` where the ticket finishes first; on a tie, the one with more slots free now,
    /// then the one listed first. A ticket with an affinity counts finishes within `affinityWindow` of its cost
    /// as a tie, and breaks a tie in free slots by its rendezvous score. Pools in `awaiting` have not reported yet:
    /// they start `reportWait` later.
    func best(_ ticket: Ticket, among options: [PoolKey], awaiting: Set<PoolKey> = [], _ timelines: inout Timelines)
        -> Choice
    {
        var best: (choice: Choice, free: Int, score: UInt64)?
        for key in options {
            if timelines.times[key] == nil { timelines.times[key] = timeline(key) }
            let slots = timelines.times[key]!
            guard let first = slots.first else { continue }
            let start = max(first, now) + (awaiting.contains(key) ? Self.reportWait : 0)
            let cost = cost(ticket, on: key)
            let finish = start + cost
            let free = slots.prefix { $0 <= now }.count
            let score = ticket.affinity.map { Self.rendezvous($0, key.host) } ?? 0
            let tolerance = ticket.affinity == nil ? 1e-6 * max(1, finish) : Self.affinityWindow * cost
            if let current = best {
                let sooner = finish < current.choice.finish - tolerance
                let tie = abs(finish - current.choice.finish) <= tolerance
                guard sooner || (tie && (free, score) > (current.free, current.score)) else { continue }
            }
            best = (Choice(pool: key, start: start, finish: finish), free, score)
        }
        // Every option has at least one slot in its timeline (capacity is at least 1).
        return best?.choice ?? Choice(pool: options[0], start: now, finish: now)
    }

    /// When a running copy is expected to end: when expected, or, once overdue, after half as long again as it
    /// has run (it is slower than thought; how much is unknown). Always later than now.
    func expectedEnd(_ placement: Placement) -> Double {
        let end = placement.started + placement.expected
        return end > now ? end : now + max(0.01, 0.5 * (now - placement.started))
    }

    /// A job that will finish this much later where it runs than a copy would on a free host is raced there.
    static func raceMargin(_ copyCost: Double) -> Double { max(0.1, 0.25 * copyCost) }

    /// A job running this many times its expected time, on a server with no queue, is a straggler.
    static let stragglerFactor = 2.0

    /// With nothing queued, each remote pool with a free slot takes a copy of the running job it would finish
    /// well before its copy now running elsewhere: a job on a slow host, or one held longer than expected (its
    /// server queued it behind other users' jobs) — an overdue job is guessed to run as long again as it has.
    /// Overdue means late on a server that reports jobs waiting, else past twice the expected time: a job
    /// compiling a little late is a busy machine's noise, and a copy on an equal host would waste a slot. Only jobs
    /// whose whole source has come, once each.
    mutating func raceStragglers() -> [Action] {
        var actions: [Action] = []
        var timelines = Timelines()
        /// A running job's copy, and when it is expected to end.
        struct Straggler {
            var id: Int
            var placement: Placement
            var expectedEnd: Double
        }
        var stragglers: [Straggler] = []
        for (id, placements) in running where placements.count == 1 && placements[0].ticket.size != nil {
            let placement = placements[0]
            let end = placement.started + placement.expected
            let elapsed = now - placement.started
            let queuedThere = mayQueue(placement.pool)
            let expectedEnd: Double
            if end > now {
                expectedEnd = end
            } else if elapsed >= (queuedThere ? 1 : Self.stragglerFactor) * placement.expected {
                // Far overdue: guessed to run as long again as it has.
                expectedEnd = now + elapsed
            } else {
                continue  // a little late is a busy machine's noise: a copy would mostly waste a slot
            }
            stragglers.append(Straggler(id: id, placement: placement, expectedEnd: expectedEnd))
        }
        stragglers.sort { $0.expectedEnd > $1.expectedEnd || ($0.expectedEnd == $1.expectedEnd && $0.id < $1.id) }
        for straggler in stragglers {
            let (placement, expectedEnd) = (straggler.placement, straggler.expectedEnd)
            let ticket = placement.ticket
            var chosen: Choice?
            for key in candidates(ticket) where key != placement.pool && !key.isLocal {
                if timelines.times[key] == nil { timelines.times[key] = timeline(key) }
                guard let first = timelines.times[key]!.first, first <= now else { continue }
                let copyCost = cost(ticket, on: key)
                guard now + copyCost + Self.raceMargin(copyCost) < expectedEnd,
                    chosen.map({ now + copyCost < $0.finish }) ?? true
                else { continue }
                chosen = Choice(pool: key, start: now, finish: now + copyCost)
            }
            guard let chosen else { continue }
            timelines.take(chosen)
            place(ticket, on: chosen.pool, expected: chosen.finish - now)
            actions.append(.dispatch(ticket, to: chosen.pool))
        }
        return actions
    }
}
