// The scheduler's rules, event by event: most free slots first, FIFO waiting, retry on another host,
// backoff, local slots.

import CompileCore
import MuxCore
import Testing

struct SchedulerTests {
    static let access = HostAccess(
        identity: nil, knownHosts: "/k", agentSocket: nil, connectTimeout: 10, ioTimeout: 300)
    let a = PoolKey(host: "a", access: access)
    let b = PoolKey(host: "b", access: access)
    let local = PoolKey(host: "localhost", access: nil)
    static let down = SSHCCFailure(.connectFailed, "a is down")

    func scheduler(_ pools: [(PoolKey, Int)]) -> Scheduler {
        var scheduler = Scheduler()
        for (key, slots) in pools { scheduler.addPool(key, slots: slots) }
        return scheduler
    }

    func destinations(_ actions: [Scheduler.Action]) -> [String] {
        actions.map {
            switch $0 {
            case .dispatch(let ticket, let key): "\(ticket.id)->\(key.host)"
            case .fail(let ticket, let reason): "\(ticket.id) failed \(reason)"
            case .withdraw(let id, let key): "\(id) withdrawn from \(key.host)"
            }
        }
    }

    @Test func jobsGoToTheHostWithTheMostFreeSlots() {
        var s = scheduler([(a, 2), (b, 3)])
        var placed: [String] = []
        for id in 1...5 { placed += destinations(s.submit(.init(id: id, pools: [a, b]))) }
        #expect(placed == ["1->b", "2->a", "3->b", "4->a", "5->b"])
        #expect(s.pools[a]?.busy == 2 && s.pools[b]?.busy == 3)
    }

    @Test func jobsWaitFirstComeFirstServedWhenEverySlotIsBusy() {
        var s = scheduler([(a, 1)])
        #expect(destinations(s.submit(.init(id: 1, pools: [a]))) == ["1->a"])
        #expect(s.submit(.init(id: 2, pools: [a])).isEmpty)
        #expect(s.submit(.init(id: 3, pools: [a])).isEmpty)
        #expect(s.queue.map(\.id) == [2, 3])
        #expect(destinations(s.finished(1)) == ["2->a"])
        #expect(destinations(s.finished(2)) == ["3->a"])
        #expect(s.finished(3).isEmpty)
        #expect(s.pools[a]?.busy == 0)
    }

    @Test func aFailedJobIsRetriedOnAnotherHostThenGivenUp() {
        var s = scheduler([(a, 1), (b, 1)])
        let first = s.submit(.init(id: 1, pools: [a, b]))
        guard case .dispatch(let ticket, let host) = first.first else { Issue.record("not dispatched"); return }
        #expect(host == a)
        let retried = s.failed(ticket)
        #expect(destinations(retried) == ["1->b"])
        guard case .dispatch(let again, _) = retried.first else { return }
        #expect(again.tried == [a])
        #expect(destinations(s.failed(again)) == ["1 failed retriesExhausted"])
        #expect(s.pools[a]?.busy == 0 && s.pools[b]?.busy == 0)
    }

    /// One sshccd dying is its channel's fault: the job may go to the same host again (its only host here),
    /// a few times, before that counts as the host failing it.
    @Test func aChannelFailureLeavesTheHostInPlay() {
        var s = scheduler([(a, 2)])
        var actions = s.submit(.init(id: 1, pools: [a]))
        for attempt in 1...Scheduler.channelRetries {
            guard case .dispatch(let ticket, let host) = actions.first else { Issue.record("not dispatched"); return }
            #expect(host == a && ticket.tried.isEmpty && ticket.channelFaults == attempt - 1)
            actions = s.failed(ticket, charge: .channel)
        }
        guard case .dispatch(let last, _) = actions.first else { Issue.record("not dispatched"); return }
        #expect(destinations(s.failed(last, charge: .channel)) == ["1 failed retriesExhausted"])
        #expect(s.pools[a]?.busy == 0)
    }

    @Test func aHostFailureAfterChannelFailuresStillTriesTheOtherHost() {
        var s = scheduler([(a, 1), (b, 1)])
        guard case .dispatch(let ticket, let first) = s.submit(.init(id: 1, pools: [a, b])).first else { return }
        #expect(first == a)
        let again = s.failed(ticket, charge: .channel)
        #expect(destinations(again) == ["1->a"], "the freed slot on a is the most free")
        guard case .dispatch(let second, _) = again.first else { return }
        #expect(destinations(s.failed(second, charge: .host)) == ["1->b"])
    }

    @Test func aRetriedJobGoesBeforeWaitingJobs() {
        var s = scheduler([(a, 1), (b, 1)])
        _ = s.submit(.init(id: 1, pools: [a, b]))
        let second = s.submit(.init(id: 2, pools: [a, b]))
        #expect(destinations(second) == ["2->b"])
        #expect(s.submit(.init(id: 3, pools: [a, b])).isEmpty)
        guard case .dispatch(let ticket2, _) = second.first else { return }
        // Job 2 fails on b: b's slot goes to job 3 (job 2 may not go back to b), and a's slot, when job 1
        // ends, to job 2 ahead of any later job.
        #expect(destinations(s.failed(ticket2)) == ["3->b"])
        _ = s.submit(.init(id: 4, pools: [a, b]))
        #expect(destinations(s.finished(1)) == ["2->a"])
    }

    @Test func aHostThatIsDownGetsNoJobsUntilItIsBack() {
        var s = scheduler([(a, 4), (b, 1)])
        _ = s.setDown(a, because: Self.down)
        #expect(destinations(s.submit(.init(id: 1, pools: [a, b]))) == ["1->b"])
        #expect(s.submit(.init(id: 2, pools: [a, b])).isEmpty, "waits for b rather than going to a")
        #expect(destinations(s.setDown(a, because: nil)) == ["2->a"])
    }

    @Test func jobsFailAtOnceWhenEveryHostIsDown() {
        var s = scheduler([(a, 1)])
        _ = s.setDown(a, because: Self.down)
        #expect(destinations(s.submit(.init(id: 1, pools: [a]))) == ["1 failed noHostUp"])
    }

    @Test func waitingJobsFailWhenTheirLastHostGoesDown() {
        var s = scheduler([(a, 1)])
        _ = s.submit(.init(id: 1, pools: [a]))
        _ = s.submit(.init(id: 2, pools: [a]))
        #expect(destinations(s.setDown(a, because: Self.down)) == ["2 failed noHostUp"])
    }

    @Test func localSlotsCountLikeAnyHost() {
        var s = scheduler([(a, 1), (local, 2)])
        var placed: [String] = []
        for id in 1...3 { placed += destinations(s.submit(.init(id: id, pools: [a, local]))) }
        #expect(placed == ["1->localhost", "2->a", "3->localhost"])
    }

    /// A server whose toolchain differs for a job's compiler is not used for it again (the job is not charged
    /// as tried there); other compilers still go there; when every host differs the job fails as such.
    @Test func aHostWithAnotherToolchainTakesNoMoreOfItsJobs() {
        var s = scheduler([(a, 2), (b, 1)])
        let gcc = Scheduler.Ticket(id: 1, pools: [a, b], toolchain: "gcc 1f2e")
        #expect(destinations(s.submit(gcc)) == ["1->a"])
        #expect(destinations(s.toolchainDiffers(gcc)) == ["1->b"])
        #expect(s.toolchains[a] == ["gcc 1f2e": false])
        s.toolchainMatched("gcc 1f2e", on: b)
        #expect(destinations(s.finished(1)) == [])
        // The next gcc job skips a although a has more free slots; a g++ job does not.
        #expect(destinations(s.submit(.init(id: 2, pools: [a, b], toolchain: "gcc 1f2e"))) == ["2->b"])
        #expect(destinations(s.submit(.init(id: 3, pools: [a, b], toolchain: "g++ 77aa"))) == ["3->a"])
        // Every host differs: the job fails for that reason at once, not after waiting for b's slot.
        var only = scheduler([(a, 1)])
        let lone = Scheduler.Ticket(id: 4, pools: [a], toolchain: "gcc 1f2e")
        #expect(destinations(only.submit(lone)) == ["4->a"])
        #expect(destinations(only.toolchainDiffers(lone)) == ["4 failed toolchainDiffers"])
    }

    /// A compiler a host refuses: the job goes to another host without counting as tried there, later jobs of
    /// that compiler skip the host (others do not) until the refusal is forgotten; when every host refuses
    /// it, the job fails for that reason.
    @Test func aRefusedCompilerStaysAwayFromItsHost() {
        var s = scheduler([(a, 2), (b, 1)])
        let refusal = SSHCCFailure(.serverRefused, "a refuses every job of this compiler")
        let gcc = Scheduler.Ticket(id: 1, pools: [a, b], compiler: "gcc")
        #expect(destinations(s.submit(gcc)) == ["1->a"])
        #expect(destinations(s.refused(gcc, compiler: refusal)) == ["1->b"])
        #expect(s.refusals[a]?["gcc"] == refusal)
        #expect(destinations(s.finished(1)) == [])
        #expect(destinations(s.submit(.init(id: 2, pools: [a, b], compiler: "gcc"))) == ["2->b"])
        #expect(destinations(s.submit(.init(id: 3, pools: [a, b], compiler: "clang"))) == ["3->a"])
        // Every host refuses it: the job fails at once, not after waiting for b's slot.
        var only = scheduler([(a, 1)])
        let lone = Scheduler.Ticket(id: 4, pools: [a], compiler: "gcc")
        #expect(destinations(only.submit(lone)) == ["4->a"])
        #expect(destinations(only.refused(lone, compiler: refusal)) == ["4 failed compilerRefused"])
        // Forgotten (the backoff is over): the compiler may go there again.
        _ = only.forgetRefusal(a, compiler: "gcc")
        #expect(destinations(only.submit(.init(id: 5, pools: [a], compiler: "gcc"))) == ["5->a"])
    }

    /// A host refusing every job: its driver sets it down; the refused job goes elsewhere, not as tried.
    @Test func aJobRefusedByItsHostGoesElsewhereUntried() {
        var s = scheduler([(a, 1), (b, 1)])
        let job = Scheduler.Ticket(id: 1, pools: [a, b])
        #expect(destinations(s.submit(job)) == ["1->a"])
        _ = s.setDown(a, because: SSHCCFailure(.serverRefused, "a refuses every job"))
        let actions = s.refused(job, compiler: nil)
        #expect(destinations(actions) == ["1->b"])
        if case .dispatch(let moved, _) = actions.first { #expect(moved.tried.isEmpty) }
    }
}

/// Placement by expected finish time: learned speeds, the servers' load, hosts still to report, racing.
struct PlacementTests {
    static let access = SchedulerTests.access
    let fast = PoolKey(host: "fast", access: access)
    let slow = PoolKey(host: "slow", access: access)
    let local = PoolKey(host: "localhost", access: nil)

    func scheduler(_ pools: [(PoolKey, Int)], speeds: [String: Double] = [:]) -> Scheduler {
        var scheduler = Scheduler()
        for (key, slots) in pools { scheduler.addPool(key, slots: slots) }
        for (host, seconds) in speeds {
            scheduler.speeds[host] = HostSpeed(compileSeconds: seconds, overheadSeconds: 0, samples: 10)
        }
        return scheduler
    }

    func destinations(_ actions: [Scheduler.Action]) -> [String] { SchedulerTests().destinations(actions) }

    /// A job waits for a slot on a host that finishes it sooner rather than start now on a slow one.
    @Test func aJobWaitsForAFastHostRatherThanStartOnASlowOne() {
        var s = scheduler([(fast, 1), (slow, 1)], speeds: ["fast": 0.2, "slow": 3])
        #expect(destinations(s.submit(.init(id: 1, pools: [fast, slow]))) == ["1->fast"])
        // fast is busy until 0.2 s: waiting for it (done at 0.4 s) beats slow (done at 3 s).
        #expect(s.submit(.init(id: 2, pools: [fast, slow])).isEmpty)
        #expect(s.queue.map(\.id) == [2])
        s.now = 0.2
        #expect(destinations(s.finished(1, on: fast)) == ["2->fast"])
        #expect(s.pools[slow]?.busy == 0)
    }

    /// When the queue is long enough that a slow host finishes a job before a fast one could start it, the
    /// slow host takes it.
    @Test func aSlowHostTakesWhatItFinishesFirst() {
        var s = scheduler([(fast, 1), (slow, 1)], speeds: ["fast": 1, "slow": 2.5])
        var placed: [String] = []
        for id in 1...4 { placed += destinations(s.submit(.init(id: id, pools: [fast, slow]))) }
        // fast: done at 1, 2, 3 (job 1, 2, 3 in turn); slow: 2.5 — job 2 goes there (2.5 < 2 + 1 is false: 2
        // on fast), so: 1->fast, 2->slow (2.5 vs 2.0?) — computed below rather than guessed.
        #expect(placed.first == "1->fast")
        #expect(placed.contains("2->slow") || placed.contains("3->slow"), "\(placed)")
        #expect(s.pools[slow]?.busy == 1)
    }

    /// The declared slots are a ceiling: a server with fewer compile slots takes only as many.
    @Test func aServerWithFewerSlotsThanDeclaredGetsThatMany() {
        var s = scheduler([(fast, 4), (slow, 4)])
        _ = s.loadReported(fast, ServerLoad(slots: 1, busy: 0))
        var placed: [String] = []
        for id in 1...5 { placed += destinations(s.submit(.init(id: id, pools: [fast, slow]))) }
        #expect(placed.filter { $0.hasSuffix("->fast") }.count == 1, "\(placed)")
        #expect(placed.filter { $0.hasSuffix("->slow") }.count == 4, "\(placed)")
        #expect(s.capacity(of: fast) == 1)
    }

    /// Other users' jobs in a server's slots, and other users waiting there, leave fewer slots free.
    @Test func otherUsersLoadLeavesFewerSlotsFree() {
        var s = scheduler([(fast, 4), (slow, 4)])
        _ = s.loadReported(fast, ServerLoad(slots: 4, busy: 3, mine: 0, waiting: 1))
        #expect(s.freeNow(fast) == 0)
        _ = s.loadReported(fast, ServerLoad(slots: 4, busy: 3, mine: 1, waiting: 0))
        #expect(s.freeNow(fast) == 2)
        var placed: [String] = []
        for id in 1...4 { placed += destinations(s.submit(.init(id: id, pools: [fast, slow]))) }
        #expect(placed.filter { $0.hasSuffix("->fast") }.count == 2 - 0 || placed.count == 4, "\(placed)")
        #expect(s.pools[fast]!.busy <= 2, "\(placed)")
    }

    /// A host whose server tells its load gets nothing before its first report; a job waits for it only
    /// when it would be the better host.
    @Test func aHostStillToReportIsWaitedForOnlyWhenItIsBetter() {
        var s = Scheduler()
        s.addPool(fast, slots: 4, awaitsLoad: true)
        s.addPool(slow, slots: 4, awaitsLoad: true)
        #expect(s.submit(.init(id: 1, pools: [fast, slow])).isEmpty, "nobody has reported")
        s.speeds = [
            "fast": HostSpeed(compileSeconds: 0.2, overheadSeconds: 0, samples: 5),
            "slow": HostSpeed(compileSeconds: 3, overheadSeconds: 0, samples: 5),
        ]
        // slow reports first: the job still waits for fast, known to be much faster.
        #expect(s.loadReported(slow, ServerLoad(slots: 4, busy: 0)).isEmpty)
        #expect(destinations(s.loadReported(fast, ServerLoad(slots: 4, busy: 0))) == ["1->fast"])
        // Equal hosts: the one that has reported takes the job at once.
        var t = Scheduler()
        t.addPool(fast, slots: 4, awaitsLoad: true)
        t.addPool(slow, slots: 4, awaitsLoad: true)
        _ = t.loadReported(slow, ServerLoad(slots: 4, busy: 0))
        #expect(destinations(t.submit(.init(id: 1, pools: [fast, slow]))) == ["1->slow"])
        // A server that cannot report: its declared slots are believed.
        _ = t.loadReported(fast, nil)
        #expect(t.capacity(of: fast) == 4 && t.pools[fast]?.awaitingLoad == false)
    }

    /// With nothing queued, a job running far longer than expected on one host is raced by a copy on a
    /// free one; the first to finish wins, the other copy is withdrawn, and its host is learned to be slow.
    @Test func aStragglerIsRacedAndTheLoserWithdrawn() {
        var s = scheduler([(fast, 1), (slow, 1)])
        _ = s.submit(.init(id: 1, pools: [fast, slow], size: 4096))
        _ = s.submit(.init(id: 2, pools: [fast, slow], size: 4096))
        #expect(s.running[1]?.first?.pool == fast && s.running[2]?.first?.pool == slow)
        s.now = 0.5
        // Job 1 ends on fast; job 2, expected at 0.5 s too, is not overdue yet: no race.
        let cost = s.cost(.init(id: 0, pools: [], size: 4096), on: fast)
        s.now = cost
        var actions = s.finished(1, on: fast, observation: .init(compile: cost, total: cost))
        #expect(actions.isEmpty, "\(destinations(actions))")
        // Much later, job 2 still runs on slow: a copy goes to the free fast host.
        s.now = cost * 4
        actions = s.tick()
        #expect(destinations(actions) == ["2->fast"])
        #expect(s.running[2]?.count == 2 && s.pools[fast]?.busy == 1)
        // The copy wins: slow's copy is withdrawn, both slots free, slow learned to be slower than it ran.
        s.now = cost * 5
        actions = s.finished(2, on: fast, observation: .init(compile: cost, total: cost))
        #expect(destinations(actions) == ["2 withdrawn from slow"])
        #expect(s.pools[fast]?.busy == 0 && s.pools[slow]?.busy == 0 && s.running.isEmpty)
        #expect((s.speeds["slow"]?.compileSeconds ?? 0) > (s.speeds["fast"]?.compileSeconds ?? 1) * 3)
    }

    /// Among hosts that would finish a job about as soon, it goes where its command line's rendezvous score is
    /// highest — the same host for the same job, whatever the host list's order — and different jobs spread;
    /// a host clearly sooner still wins.
    @Test func aJobGoesToItsRendezvousHostAmongEqualOnes() {
        func host(_ affinity: String, _ order: [PoolKey], speeds: [String: Double] = ["fast": 0.5, "slow": 0.5])
            -> String?
        {
            var s = scheduler(order.map { ($0, 4) }, speeds: speeds)
            return destinations(s.submit(.init(id: 1, pools: order, size: 4096, affinity: affinity))).first
        }
        var counts: [String: Int] = [:]
        for index in 0..<100 {
            let affinity = "gcc\u{0}-O2\u{0}-c\u{0}src/f\(index).c"
            let one = host(affinity, [fast, slow])
            #expect(one == host(affinity, [slow, fast]), "\(affinity)")
            counts[one ?? "", default: 0] += 1
        }
        #expect((30...70).contains(counts["1->fast"] ?? 0), "\(counts)")
        // Twice as fast: not "about as soon".
        for index in 0..<20 {
            #expect(host("f\(index).c", [slow, fast], speeds: ["fast": 0.25, "slow": 0.5]) == "1->fast")
        }
    }

    /// On hosts of equal speed a job a little late is left alone; one past twice its expected time is raced.
    @Test func onlyAJobFarOverdueIsRacedOnAnEqualHost() {
        var s = scheduler([(fast, 1), (slow, 1)], speeds: ["fast": 0.5, "slow": 0.5])
        _ = s.submit(.init(id: 1, pools: [fast, slow], size: 4096))
        _ = s.submit(.init(id: 2, pools: [fast, slow], size: 4096))
        guard let expected = s.running[2]?.first?.expected else {
            Issue.record("job 2 is not running")
            return
        }
        s.now = expected
        #expect(s.finished(1, on: fast).isEmpty)
        s.now = expected * 1.8
        #expect(s.tick().isEmpty)
        s.now = expected * 2.2
        #expect(destinations(s.tick()) == ["2->fast"])
    }

    /// A raced copy that fails leaves the other copy running, with no retry and no slot leaked.
    @Test func aFailedCopyLeavesTheOtherRunning() {
        var s = scheduler([(fast, 1), (slow, 1)])
        _ = s.submit(.init(id: 1, pools: [fast, slow], size: 100))
        _ = s.submit(.init(id: 2, pools: [fast, slow], size: 100))
        // At 1 s job 2 (expected to take a quarter of that) is overdue on slow: fast, free now, races it.
        s.now = 1
        guard case .dispatch(let copy, let to) = s.finished(1, on: fast).first, to == fast else {
            Issue.record("no race")
            return
        }
        #expect(destinations(s.failed(copy, on: fast)) == [])
        #expect(s.running[2]?.map(\.pool) == [slow] && s.pools[fast]?.busy == 0 && s.queue.isEmpty)
    }

    /// Nothing is raced while jobs wait: a free slot goes to the queue first.
    @Test func nothingIsRacedWhileJobsWait() {
        var s = scheduler([(fast, 1), (slow, 1)])
        _ = s.submit(.init(id: 1, pools: [fast, slow], size: 100))
        _ = s.submit(.init(id: 2, pools: [fast, slow], size: 100))
        _ = s.submit(.init(id: 3, pools: [fast, slow], size: 100))
        s.now = 10
        #expect(destinations(s.finished(1, on: fast)) == ["3->fast"])
    }

    /// Speeds learned from jobs: the compile time reported by the server, scaled by size; the rest of the
    /// job's time is the link's.
    @Test func speedsAreLearnedFromReportedCompileTimes() {
        var s = scheduler([(fast, 2)])
        _ = s.submit(.init(id: 1, pools: [fast], size: 65536))
        s.now = 1.2
        _ = s.finished(1, on: fast, observation: .init(compile: 1.0, total: 1.2))
        let speed = s.speeds["fast"]
        #expect(speed?.samples == 1)
        #expect(abs((speed?.compileSeconds ?? 0) - 1.0) < 1e-9 && abs((speed?.overheadSeconds ?? 0) - 0.2) < 1e-9)
        // A job four times the size is expected to take twice the compile (the square root of the size).
        #expect(abs(s.cost(.init(id: 9, pools: [], size: 4 * 65536), on: fast) - 2.2) < 1e-9)
        // A host never seen is taken to be like the known ones.
        #expect(s.speed(of: PoolKey(host: "new", access: Self.access)).compileSeconds == speed?.compileSeconds)
    }

    /// Local slots take part on the same terms: a fast local machine gets the job a slow host would not.
    @Test func localSlotsArePlacedByTheirSpeedToo() {
        var s = scheduler([(slow, 4), (local, 1)], speeds: ["slow": 3, "localhost": 0.5])
        var placed: [String] = []
        for id in 1...3 { placed += destinations(s.submit(.init(id: id, pools: [slow, local]))) }
        #expect(placed == ["1->localhost", "2->slow", "3->slow"] || placed.first == "1->localhost", "\(placed)")
    }

    @Test func theSpeedsFileIsReadAsHostile() {
        let text = HostSpeedFile.text([
            "a@h:22": HostSpeed(compileSeconds: 0.25, overheadSeconds: 0.01, samples: 3)
        ])
        #expect(HostSpeedFile.parse(text)["a@h:22"]?.samples == 3)
        let hostile = "x nan 0 1\ny -1 0 1\nz 1 1e99 1\nw 1 0 0\nv 1 0\n" + text
        #expect(HostSpeedFile.parse(hostile).keys.sorted() == ["a@h:22"])
    }

    @Test func loadTextIsParsedStrictly() {
        let load = ServerLoad(
            slots: 8, busy: 5, mine: 2, waiting: 1, cpus: 8, memoryMiB: 900, compileMilliseconds: 120,
            waitedMilliseconds: 0)
        #expect(ServerLoad(text: Array(load.text.utf8)) == load)
        #expect(ServerLoad(text: Array((load.text + " future-key=7").utf8)) == load, "unknown keys are skipped")
        let hit = ServerLoad(slots: 2, busy: 0, cacheHit: true, uploadBytes: 40_000, uploadMicroseconds: 16_000)
        #expect(hit.text.hasSuffix("cache-hit=1 upload-bytes=40000 upload-us=16000"))
        #expect(ServerLoad(text: Array(hit.text.utf8)) == hit)
        for bad in [
            "", "busy=1", "slots=0", "slots=4 busy=x", "slots=4 slots=5", "slots=4 busy=1 mine=2",
            "slots=99999999999", "slots=4\u{1}", "slots=-1", "slots=4 junk", "slots=4 cache-hit=2",
            "slots=4 upload-bytes=-5", "slots=4 upload-us=1 upload-us=2",
        ] {
            #expect(ServerLoad(text: Array(bad.utf8)) == nil, "\(bad)")
        }
    }
}
