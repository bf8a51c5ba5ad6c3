// The placement rules at the scale of a farm, on paper: a discrete-event simulation of many users' daemons
// (each a real Scheduler) and many servers (slots shared by every user, a freed slot going to the user who has
// waited longest, as sshccd's line-up does), with load reports in every reply and in answer to a probe every
// 0.1 s while a daemon has jobs waiting or one running late there, as the mux daemon sends them. The test runs a small farm; the full
// size (100 servers × 1000 users) runs by hand: FARM_SIMULATION=full swift test --filter FarmSimulation.

import CompileCore
import Glibc
import HeapModule
import MuxCore
import Testing

struct FarmSimulation {
    struct Server {
        var slots: Int
        /// Seconds one job takes here.
        var seconds: Double
        var running: [(user: Int, job: Int)] = []
        /// Jobs waiting for a slot, with when they came.
        var waiting: [(user: Int, job: Int, since: Double)] = []
    }

    struct User {
        var scheduler = Scheduler()
        var pools: [PoolKey] = []
        var start: Double
        var jobs: Int
        var done = 0
        var finished: Double?
        var lastProbe: [Int: Double] = [:]
        /// Each job's copies: server and when it went.
        var sent: [Int: [(server: Int, at: Double)]] = [:]
        var tickets: [Int: Scheduler.Ticket] = [:]
    }

    enum Event {
        case start(user: Int)
        case arrive(user: Int, job: Int, server: Int)
        case done(server: Int, user: Int, job: Int)
        case reply(user: Int, job: Int, server: Int, load: ServerLoad, compile: Double)
        case load(user: Int, server: Int, load: ServerLoad)
        case tick(user: Int)
    }

    var servers: [Server]
    var users: [User] = []
    /// An event at a time; events at one time in the order they were scheduled.
    struct Timed: Comparable {
        var time: Double
        var order: Int
        var event: Event
        static func < (a: Timed, b: Timed) -> Bool { (a.time, a.order) < (b.time, b.order) }
        static func == (a: Timed, b: Timed) -> Bool { (a.time, a.order) == (b.time, b.order) }
    }

    var events = Heap<Timed>()
    var order = 0
    var now = 0.0
    let rtt: Double
    var rng: SplitMix

    /// `hostsPerUser` random servers in each user's list (declared `slots` each), `jobs` per build, builds
    /// starting within `window` seconds.
    init(
        servers: [Server], users: Int, hostsPerUser: Int, declared: Int, jobs: Int, window: Double, rtt: Double,
        seed: UInt64
    ) {
        self.servers = servers
        self.rtt = rtt
        rng = SplitMix(seed)
        for index in 0..<users {
            var user = User(start: rng.unit() * window, jobs: jobs)
            var chosen: Set<Int> = []
            while chosen.count < min(hostsPerUser, servers.count) {
                chosen.insert(Int(rng.next() % UInt64(servers.count)))
            }
            let access = HostAccess(
                identity: nil, knownHosts: "/k", agentSocket: nil, connectTimeout: 10, ioTimeout: 300)
            for server in chosen.sorted() {
                let key = PoolKey(host: "s\(server)", access: access)
                user.pools.append(key)
                user.scheduler.addPool(key, slots: declared, awaitsLoad: true)
            }
            self.users.append(user)
            schedule(user.start, .start(user: index))
        }
    }

    mutating func schedule(_ time: Double, _ event: Event) {
        order += 1
        events.insert(Timed(time: time, order: order, event: event))
    }

    func load(_ server: Int, for user: Int) -> ServerLoad {
        let s = servers[server]
        let others = Set(s.waiting.map(\.user)).subtracting([user]).count
        return ServerLoad(
            slots: s.slots, busy: s.running.count, mine: s.running.filter { $0.user == user }.count, waiting: others)
    }

    mutating func run() {
        while let next = events.popMin() {
            now = next.time
            handle(next.event)
        }
    }

    mutating func handle(_ event: Event) {
        switch event {
        case .start(let user):
            for server in users[user].pools.map(serverIndex) {
                schedule(now + rtt, .load(user: user, server: server, load: load(server, for: user)))
            }
            for job in 0..<users[user].jobs {
                let ticket = Scheduler.Ticket(id: job, pools: users[user].pools, size: 65536)
                users[user].tickets[job] = ticket
                perform(user) { $0.submit(ticket) }
            }
            schedule(now + 0.1, .tick(user: user))
        case .arrive(let user, let job, let server):
            guard users[user].sent[job]?.contains(where: { $0.server == server }) == true else { return }
            servers[server].waiting.append((user, job, now))
            startJobs(server)
        case .done(let server, let user, let job):
            guard let index = servers[server].running.firstIndex(where: { $0 == (user, job) }) else { return }
            servers[server].running.remove(at: index)
            schedule(
                now + rtt / 2,
                .reply(
                    user: user, job: job, server: server, load: load(server, for: user),
                    compile: servers[server].seconds))
            startJobs(server)
        case .reply(let user, let job, let server, let load, let compile):
            guard users[user].tickets[job] != nil,
                let copy = users[user].sent[job]?.first(where: { $0.server == server })
            else { return }
            users[user].tickets[job] = nil
            users[user].done += 1
            if users[user].done == users[user].jobs { users[user].finished = now }
            let key = users[user].pools.first { serverIndex($0) == server }!
            let observation = Scheduler.Observation(compile: compile, total: now - copy.at)
            perform(user) { $0.finished(job, on: key, observation: observation) + $0.loadReported(key, load) }
        case .load(let user, let server, let load):
            let key = users[user].pools.first { serverIndex($0) == server }!
            perform(user) { $0.loadReported(key, load) }
        case .tick(let user):
            guard users[user].finished == nil else { return }
            // Each server placement wants to hear from is asked its load every 0.1 s.
            users[user].scheduler.now = now
            for key in users[user].pools where users[user].scheduler.wantsLoad(key) {
                let server = serverIndex(key)
                schedule(now + rtt, .load(user: user, server: server, load: load(server, for: user)))
            }
            perform(user) { $0.tick() }
            schedule(now + 0.1, .tick(user: user))
        }
    }

    func serverIndex(_ key: PoolKey) -> Int { Int(key.host.dropFirst())! }

    mutating func perform(_ user: Int, _ event: (inout Scheduler) -> [Scheduler.Action]) {
        users[user].scheduler.now = now
        for action in event(&users[user].scheduler) {
            switch action {
            case .dispatch(let ticket, let key):
                let server = serverIndex(key)
                users[user].sent[ticket.id, default: []].append((server, now))
                schedule(now + rtt / 2, .arrive(user: user, job: ticket.id, server: server))
            case .withdraw(let job, let key):
                let server = serverIndex(key)
                users[user].sent[job]?.removeAll { $0.server == server }
                servers[server].waiting.removeAll { $0.user == user && $0.job == job }
                if let index = servers[server].running.firstIndex(where: { $0 == (user, job) }) {
                    servers[server].running.remove(at: index)
                    startJobs(server)
                }
            case .fail: Issue.record("a job failed in the simulation")
            }
        }
    }

    /// Free slots go to the user who has waited longest (each user's oldest waiting job).
    mutating func startJobs(_ server: Int) {
        while servers[server].running.count < servers[server].slots, !servers[server].waiting.isEmpty {
            let next = servers[server].waiting.indices.min {
                servers[server].waiting[$0].since < servers[server].waiting[$1].since
            }!
            let (user, job, _) = servers[server].waiting.remove(at: next)
            servers[server].running.append((user, job))
            schedule(now + servers[server].seconds, .done(server: server, user: user, job: job))
        }
    }

    /// The last build's end, against a lower bound: every job's work spread over every slot at once, and no
    /// build shorter than its own jobs on the fastest servers it lists.
    var makespan: Double { users.compactMap(\.finished).max() ?? .infinity }
    var lowerBound: Double {
        let capacity = servers.reduce(0.0) { $0 + Double($1.slots) / $1.seconds }
        let work = Double(users.reduce(0) { $0 + $1.jobs })
        let earliest = users.map(\.start).min() ?? 0
        return max(earliest + work / capacity, users.map(\.start).max() ?? 0)
    }
}

/// A small, seeded random source (the simulation must be the same on every run).
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return TextHash.mixed(state)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

struct FarmSimulationTests {
    /// Servers of three speeds, many users with overlapping host lists, builds starting over a few seconds:
    /// every job is done, and the farm's makespan stays near the bound no placement can beat. Four farms
    /// (seeds) at CI size: one farm's figure swings with the order of events; their mean tells the rules.
    @Test func theBalanceHoldsAcrossAFarm() {
        let full = getenv("FARM_SIMULATION").map { String(cString: $0) } == "full"
        let serverCount = full ? 100 : 12
        let userCount = full ? 1000 : 60
        var ratios: [Double] = []
        // SIM_SEEDS=1,2,… runs other farms by hand.
        let given = getenv("SIM_SEEDS").map { String(cString: $0).split(separator: ",").compactMap { UInt64($0) } }
        for seed in given ?? (full ? [21] : [21, 1, 2, 3]) {
            var servers: [FarmSimulation.Server] = []
            for index in 0..<serverCount {
                servers.append(.init(slots: 8, seconds: [0.5, 1.0, 2.0][index % 3]))
            }
            var farm = FarmSimulation(
                servers: servers, users: userCount, hostsPerUser: full ? 10 : 4, declared: 8, jobs: 16, window: 10,
                rtt: 0.02, seed: seed)
            farm.run()
            let finished = farm.users.filter { $0.finished != nil }.count
            #expect(finished == userCount, "every build ends")
            let ratio = farm.makespan / farm.lowerBound
            print(
                "farm simulation: \(serverCount) servers × \(userCount) users, seed \(seed): makespan \(farm.makespan) s, bound \(farm.lowerBound) s, ratio \(ratio)"
            )
            #expect(ratio < 1.45, "makespan \(farm.makespan) s against a bound of \(farm.lowerBound) s")
            ratios.append(ratio)
        }
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        #expect(mean < 1.35, "ratios \(ratios)")
    }
}
