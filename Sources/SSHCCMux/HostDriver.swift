// The one thread that owns everything of one compile host: its SSH connections (libssh2 allows one thread
// per session), their channels, and the jobs the scheduler assigned to it. Other threads talk to it only
// through its inbox, a locked list plus a wake-up pipe that breaks its poll().
//
// Life of a host: connect (on a helper thread, so a slow handshake never stalls running channels), open
// channels ahead of need up to the host's slots, a second connection when sshd refuses more channels
// (MaxSessions). One connection attempt in flight at a time, and only when a job needs the host: a
// connection that broke while idle (a server rebooted, sshd restarted) is replaced when the next job comes,
// so a server that is back is used at once. A failed attempt backs the host off — jittered and growing
// (1, 2, 4 … s up to the backoff) after a network failure; the whole backoff after a refusal (host key,
// login, sessions or subsystem refused), which is never retried by itself: a retried login failure is what
// gets an address blocked (OpenSSH's PerSourcePenalties). While backed off, jobs go elsewhere at once.

import CompileCore
import DequeModule
import DistccWire
import MuxCore
import POSIXSupport
import SSH

#if canImport(Glibc)
    import Glibc
#endif

final class HostDriver: @unchecked Sendable {
    let key: PoolKey
    let spec: HostSpec
    let access: HostAccess
    let backoff: Double
    private weak var events: (any DriverEvents)?

    // Inbox, guarded by `inbox`.
    private let inbox = Monitor()
    private var incoming: [DaemonJob] = []
    private var arrivals: [Result<Handover<Connected>, ClientFailure>] = []
    private var stopRequested = false
    private var stats = HostStats()
    private let wakePipe: WakePipe?

    // Owned by the driver thread.
    private var connections: [HostConnection] = []
    private var waiting = Deque<DaemonJob>()
    private var connecting = false
    private var downUntil: UInt64?
    /// Failed attempts in a row, for the growing backoff.
    private var failuresInARow = 0
    /// The protocol version the host entry asks for (HostRequest.firstVersion) until the server refuses it;
    /// then an older one, for this daemon's life.
    private var version: UInt32
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    init(key: PoolKey, spec: HostSpec, access: HostAccess, backoff: Double, events: any DriverEvents) {
        self.key = key
        self.spec = spec
        self.access = access
        self.backoff = backoff
        self.events = events
        version = HostRequest.firstVersion(for: spec)
        stats.protocolVersion = version
        wakePipe = WakePipe()
    }

    /// Starts the driver's thread; it connects at once.
    func start() { Threads.spawn { self.run() } }

    // MARK: Inbox (any thread)

    func assign(_ job: DaemonJob) {
        inbox.withLock { incoming.append(job) }
        wake()
    }

    func stop() {
        inbox.withLock { stopRequested = true }
        wake()
    }

    var snapshot: HostStats { inbox.withLock { stats } }

    private func wake() { wakePipe?.ring() }

    private func updateStats(_ body: (inout HostStats) -> Void) { inbox.withLock { body(&stats) } }

    // MARK: The loop (driver thread)

    private func run() {
        startConnecting()
        while true {
            let (jobs, sessions, stopping) = inbox.withLock {
                defer {
                    incoming.removeAll()
                    arrivals.removeAll()
                }
                return (incoming, arrivals, stopRequested)
            }
            if stopping { return shutDown() }
            waiting.append(contentsOf: jobs)
            for arrival in sessions { connected(arrival) }
            connectIfNeeded()
            probeIfBackoffEnded()
            serviceConnections()
            dispatchWaiting()
            openChannelsAhead()
            publishCounts()
            pollOnce()
        }
    }

    private func pollOnce() {
        var fds = [pollfd(fd: wakePipe?.pollDescriptor ?? -1, events: Int16(POLLIN), revents: 0)]
        for connection in connections {
            connection.session.armQuickAck()
            fds.append(pollfd(fd: connection.session.socketDescriptor, events: connection.pollEvents, revents: 0))
        }
        // A second at most: keepalives, stalled jobs and the backoff clock are checked on each turn.
        _ = poll(&fds, nfds_t(fds.count), 1000)
        if fds[0].revents != 0 { wakePipe?.drain() }
    }

    private func serviceConnections() {
        for connection in connections {
            service(connection)
            for event in connection.expireStalledJobs() { handle(event, from: connection) }
        }
    }

    /// Advances one connection and handles what it reports; a broken one is dropped.
    private func service(_ connection: HostConnection) {
        do {
            for event in try connection.service(buffer) { handle(event, from: connection) }
        } catch {
            lose(connection, error.failure)
        }
    }

    private func handle(_ event: ConnectionEvent, from connection: HostConnection) {
        switch event {
        case .succeeded(let job, let reply, let nanoseconds, let traffic):
            // A withdrawn job (its preprocessing failed after the source went out) may still be answered
            // by a quick server: the answer has nobody to go to and is not a job done.
            if job.cancelled {
                events?.jobSucceeded(job, on: key, reply: reply)
                return
            }
            updateStats {
                $0.jobsDone += 1
                $0.jobNanoseconds += nanoseconds
                $0.add(traffic)
            }
            events?.jobSucceeded(job, on: key, reply: reply)
        case .versionRefused(let job, let refused):
            // An older sshccd: it logged the protocol error; from now on this host gets an older version.
            version = HostRequest.olderVersion(than: refused)
            let now = version
            updateStats {
                $0.protocolVersion = now
                $0.lastError =
                    "the server refused protocol \(refused) "
                    + (now == ProtocolVersion.plain
                        ? "(compressed bodies); sending uncompressed" : "(source streamed); sending the source whole")
            }
            waiting.prepend(job)
        case .jobFailed(let job, let failure):
            updateStats { $0.jobsFailed += 1 }
            events?.jobFailed(job, on: key, failure)
            goDown(failure)
        case .full:
            if connection.channels.isEmpty && !connection.isOpening {
                // Not one channel on a fresh connection: sshd refuses sessions (MaxSessions 0, a Match
                // block). Reconnecting cannot help; jobs must hear it now, not hang.
                connections.removeAll { $0 === connection }
                goDown(Self.sessionsRefused(spec))
            } else if totalChannels < spec.slots {
                startConnecting()
            }
        case .hostRefused(let failure):
            goDown(failure)
        }
    }

    /// Hands waiting jobs to idle channels.
    private func dispatchWaiting() {
        while let job = waiting.first {
            if job.cancelled {
                waiting.removeFirst()
                continue
            }
            guard let (connection, channel) = connections.lazy.compactMap({ c in c.readyChannel.map { (c, $0) } }).first
            else { return }
            waiting.removeFirst()
            job.whenChanged { [weak self] in self?.wake() }  // its source arrives, or its wrapper leaves
            connection.start(job, on: channel, version: version)
            service(connection)  // send at once rather than after the next poll
        }
    }

    private var totalChannels: Int {
        connections.reduce(0) { $0 + $1.channels.filter { !$0.retiring }.count + ($1.isOpening ? 1 : 0) }
    }

    /// Keeps `slots` channels open (or opening), one open at a time per connection.
    private func openChannelsAhead() {
        guard downUntil == nil else { return }
        var missing = spec.slots - totalChannels
        for connection in connections where missing > 0 && !connection.full && !connection.isOpening {
            connection.beginOpening()
            missing -= 1
            service(connection)
        }
    }

    private func publishCounts() {
        let open = connections.reduce(0) { $0 + $1.channels.count }
        let busy = connections.reduce(0) { $0 + $1.busyCount }
        let count = connections.count
        updateStats {
            $0.connections = count
            $0.channelsOpen = open
            $0.channelsBusy = busy
        }
    }

    // MARK: Connecting, losing, backing off

    /// A job waits and nothing can take it: connect now, unless an attempt is under way or the host is
    /// backed off.
    private func connectIfNeeded() {
        guard connections.isEmpty, !waiting.isEmpty, !connecting, downUntil == nil else { return }
        startConnecting()
    }

    static func sessionsRefused(_ spec: HostSpec) -> ClientFailure {
        ClientFailure(
            .serverRefused, "\(spec) accepted the login but refuses every session",
            details: [
                "  Its sshd_config allows no session for this account (MaxSessions 0, or a Match block with",
                "  MaxSessions 0 / ForceCommand / DisableForwarding); ask its administrator, or drop the host.",
            ])
    }

    private func startConnecting() {
        guard !connecting else { return }
        connecting = true
        if connections.isEmpty { updateStats { $0.state = downUntil == nil ? .connecting : .down } }
        let spec = spec
        let access = access
        Threads.spawn { [self] in
            let result: Result<Handover<Connected>, ClientFailure>
            do throws(ClientFailure) {
                result = .success(Handover(value: try HostConnector.connect(spec, access: access)))
            } catch {
                result = .failure(error)
            }
            inbox.withLock { arrivals.append(result) }
            wake()
        }
    }

    private func connected(_ arrival: Result<Handover<Connected>, ClientFailure>) {
        connecting = false
        switch arrival {
        case .success(let handover):
            let sshCompression = handover.value.session.compressionMethod
            updateStats { $0.sshCompression = sshCompression }
            connections.append(
                HostConnection(
                    session: handover.value.session, spec: spec, ioTimeout: access.ioTimeout,
                    keepalive: handover.value.keepalive))
            failuresInARow = 0
            if downUntil != nil {
                downUntil = nil
                events?.hostUp(key)
            }
            updateStats {
                $0.state = .up
                $0.retryAt = nil
            }
        case .failure(let failure):
            if connections.isEmpty {
                // Nobody can run the waiting jobs here: they go back to the scheduler.
                while let job = waiting.popFirst() { events?.jobFailed(job, on: key, failure) }
                goDown(failure)
            }
        }
    }

    /// A broken connection: its jobs go elsewhere. Busy, it backs the host off; idle (the server went away
    /// meanwhile), nothing happens until a job needs the host.
    private func lose(_ connection: HostConnection, _ failure: ClientFailure) {
        connections.removeAll { $0 === connection }
        for live in connection.channels {
            if let job = live.job {
                updateStats { $0.jobsFailed += 1 }
                events?.jobFailed(job, on: key, failure)
            }
        }
        if connection.channels.contains(where: \.isBusy) { goDown(failure) }
        updateStats {
            $0.lastError = failure.summary
            if connections.isEmpty && $0.state == .up { $0.state = .disconnected }
        }
    }

    /// Backs the host off: no new jobs until the window ends; then the next job that needs it connects.
    private func goDown(_ failure: ClientFailure) {
        failuresInARow += 1
        let window = Self.backoffWindow(
            failure: failure, inARow: failuresInARow, cap: backoff, jitter: Double.random(in: 0.75...1.25))
        let retryAt = Monotonic.nanoseconds() + UInt64(window * 1e9)
        let wasUp = downUntil == nil
        downUntil = retryAt
        updateStats {
            $0.state = .down
            $0.lastError = failure.summary
            $0.retryAt = retryAt
        }
        while let job = waiting.popFirst() { events?.jobFailed(job, on: key, failure) }
        if wasUp { events?.hostDown(key, failure, retryInSeconds: window) }
    }

    /// Seconds a host stays backed off: the whole `cap` after a refusal (a host key, login, sessions or
    /// subsystem the server refused: retrying soon cannot help and may get the address penalised); after a
    /// network failure 1 s, doubling with each failure in a row up to `cap`, spread by `jitter` so that
    /// many clients of one server do not come back in step.
    static func backoffWindow(failure: ClientFailure, inARow: Int, cap: Double, jitter: Double) -> Double {
        guard failure.code == .connectFailed else { return cap }
        let growing = Double(1 << min(max(inARow - 1, 0), 20))
        return min(cap, growing * jitter)
    }

    private func probeIfBackoffEnded() {
        guard let until = downUntil, Monotonic.nanoseconds() >= until else { return }
        // The window is over: the host takes jobs again, and the first one connects (connectIfNeeded).
        downUntil = nil
        let hasConnection = !connections.isEmpty
        updateStats {
            $0.state = hasConnection ? .up : .disconnected
            $0.retryAt = nil
        }
        events?.hostUp(key)
    }

    private func shutDown() {
        for job in waiting {
            events?.jobFailed(job, on: key, ClientFailure(.connectFailed, "the mux daemon is stopping"))
        }
        for connection in connections {
            for live in connection.channels {
                if let job = live.job {
                    events?.jobFailed(job, on: key, ClientFailure(.connectFailed, "the mux daemon is stopping"))
                }
            }
        }
        // Dropping the connections frees channels and disconnects politely (bounded waits in deinit).
        connections.removeAll()
        wakePipe?.close()
        buffer.deallocate()
    }
}
