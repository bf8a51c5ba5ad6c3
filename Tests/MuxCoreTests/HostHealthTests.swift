// A host's health, event by event: when it connects, when it is backed off and for how long, what is
// charged to a channel and what to the host.

import CompileCore
import MuxCore
import Testing

struct HostHealthTests {
    let network = SSHCCFailure(.connectFailed, "connection refused")
    let refusal = SSHCCFailure(.serverRefused, "login refused")
    let crash = SSHCCFailure(.remoteCrashed, "sshccd ended")
    let second: UInt64 = 1_000_000_000

    func connectedHost() -> HostHealth {
        var health = HostHealth(cap: 60)
        #expect(health.jobWaiting() == [.connect])
        #expect(health.connected().isEmpty)
        return health
    }

    @Test func oneAttemptAtATimeAndOnlyWhenNeeded() {
        var health = HostHealth(cap: 60)
        #expect(health.jobWaiting() == [.connect])
        #expect(health.jobWaiting().isEmpty, "an attempt is under way")
        #expect(health.needAnotherConnection().isEmpty)
        _ = health.connected()
        #expect(health.jobWaiting().isEmpty, "a connection exists")
        #expect(health.needAnotherConnection() == [.connect], "sshd's MaxSessions: a second connection")
    }

    /// Network failures back off 1, 2, 4 … s (jittered) up to the cap, after the streak's first failure was
    /// retried at once; a refusal takes the whole cap at once.
    @Test func attemptsThatFailBackOffGrowingThenTheCap() {
        var health = HostHealth(cap: 60)
        var windows: [Double] = []
        var now: UInt64 = 0
        _ = health.jobWaiting()
        #expect(health.connectFailed(network, now: now, jitter: 1) == [.connect], "the first is retried at once")
        for attempt in 0..<8 {
            if attempt > 0 { _ = health.jobWaiting() }
            guard case .down(_, let seconds, _) = health.connectFailed(network, now: now, jitter: 1).first else {
                Issue.record("not down")
                return
            }
            windows.append(seconds)
            now += UInt64(seconds * 1e9)
            #expect(health.tick(now: now) == [.up])
        }
        #expect(windows == [1, 2, 4, 8, 16, 32, 60, 60])
        var refused = HostHealth(cap: 60)
        _ = refused.jobWaiting()
        #expect(refused.connectFailed(refusal, now: 0, jitter: 1) == [.down(refusal, seconds: 60, wasUp: true)])
        #expect(refused.jobWaiting().isEmpty, "down: no attempt until the window ends")
    }

    /// A host that worked and then cannot be reached once (a link that reset every connection) is tried again
    /// at once; the second failure in a row backs it off. A refusal is never retried by itself.
    @Test func theFirstNetworkFailureAfterWorkingIsRetriedAtOnce() {
        var health = connectedHost()
        _ = health.connectionLost(network, busy: false, now: 0, jitter: 1)
        _ = health.jobWaiting()
        #expect(health.connectFailed(network, now: 0, jitter: 1) == [.connect])
        #expect(health.connecting)
        #expect(health.connectFailed(network, now: 0, jitter: 1) == [.down(network, seconds: 1, wasUp: true)])
        var refusing = connectedHost()
        _ = refusing.connectionLost(network, busy: false, now: 0, jitter: 1)
        _ = refusing.jobWaiting()
        #expect(refusing.connectFailed(refusal, now: 0, jitter: 1) == [.down(refusal, seconds: 60, wasUp: true)])
    }

    @Test func aSecondConnectionThatFailsLeavesTheHostUp() {
        var health = connectedHost()
        _ = health.needAnotherConnection()
        #expect(health.connectFailed(network, now: 0, jitter: 1).isEmpty)
        #expect(!health.isDown)
    }

    @Test func theFirstSuccessBringsADownHostBack() {
        var health = HostHealth(cap: 60)
        _ = health.jobWaiting()
        _ = health.connectFailed(network, now: 0, jitter: 1)
        _ = health.connectFailed(network, now: 0, jitter: 1)
        #expect(health.tick(now: 500_000_000).isEmpty, "inside the window")
        #expect(health.tick(now: second) == [.up])
        _ = health.jobWaiting()
        #expect(health.connected().isEmpty, "already up")
    }

    /// A killed sshd session: the busy connection is replaced at once; only a second break in a row with no
    /// job done between backs the host off. An idle connection that broke is not held against the host.
    @Test func aBrokenConnectionIsReplacedBeforeTheHostIsBlamed() {
        var health = connectedHost()
        #expect(health.connectionLost(network, busy: true, now: 0, jitter: 1).isEmpty)
        #expect(health.jobWaiting() == [.connect])
        _ = health.connected()
        health.jobSucceeded()
        #expect(health.connectionLost(network, busy: true, now: 0, jitter: 1).isEmpty, "a job was done between")
        _ = health.jobWaiting()
        _ = health.connected()
        guard case .down = health.connectionLost(network, busy: true, now: 0, jitter: 1).first else {
            Issue.record("two breaks in a row should back the host off")
            return
        }
        var idle = connectedHost()
        for _ in 0..<5 {
            #expect(idle.connectionLost(network, busy: false, now: 0, jitter: 1).isEmpty)
            _ = idle.jobWaiting()
            _ = idle.connected()
        }
    }

    /// One sshccd dying is its channel's failure; only a run of them with no job done backs the host off.
    @Test func channelFailuresAreNotTheHostsUntilEveryChannelFails() {
        var health = connectedHost()
        for _ in 1..<HostHealth.channelFaultLimit {
            #expect(health.jobFailed(crash, charge: .channel, now: 0, jitter: 1).isEmpty)
        }
        health.jobSucceeded()
        for _ in 1..<HostHealth.channelFaultLimit {
            #expect(health.jobFailed(crash, charge: .channel, now: 0, jitter: 1).isEmpty)
        }
        #expect(
            health.jobFailed(crash, charge: .channel, now: 0, jitter: 1) == [.down(crash, seconds: 60, wasUp: true)])
    }

    @Test func aHostChargedFailureBacksOffAtOnce() {
        var health = connectedHost()
        let stalled = SSHCCFailure(.connectFailed, "no progress")
        #expect(
            health.jobFailed(stalled, charge: .host, now: 0, jitter: 1) == [.down(stalled, seconds: 1, wasUp: true)])
        #expect(
            health.jobFailed(stalled, charge: .host, now: 0, jitter: 1) == [.down(stalled, seconds: 2, wasUp: false)],
            "already down: the scheduler is not told twice")
    }

    @Test func refusalsAndSessionlessServersTakeTheWholeCap() {
        var health = connectedHost()
        #expect(health.sessionsRefused(refusal, now: 0) == [.down(refusal, seconds: 60, wasUp: true)])
        #expect(health.connections == 0)
        var subsystem = connectedHost()
        #expect(subsystem.refused(refusal, now: 0) == [.down(refusal, seconds: 60, wasUp: true)])
    }

    @Test func theWindowIsSpreadByJitterAndCapped() {
        #expect(HostHealth.window(network, inARow: 1, cap: 60, jitter: 0.75) == 0.75)
        #expect(HostHealth.window(network, inARow: 3, cap: 60, jitter: 1.25) == 5)
        #expect(HostHealth.window(network, inARow: 40, cap: 60, jitter: 1.25) == 60)
        #expect(HostHealth.window(refusal, inARow: 1, cap: 7, jitter: 1) == 7)
    }
}
