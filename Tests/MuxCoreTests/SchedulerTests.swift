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
