// The one thread that owns everything of one compile host: its SSH connections (libssh2 allows one thread
// per session), their channels, and the jobs the scheduler assigned to it. Other threads talk to it only
// through its inbox, a locked list plus a wake-up pipe that breaks its poll().
//
// Life of a host: connect (on a helper thread, so a slow handshake never stalls running channels), open
// channels ahead of need up to the host's slots, a second connection when sshd refuses more channels
// (MaxSessions), reconnect in the background when a connection breaks, and when that fails: down for the
// backoff time, then probe again.

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
    private var arrivals: [Result<Handover<Session>, ClientFailure>] = []
    private var stopRequested = false
    private var stats = HostStats()
    private let wakePipe: WakePipe?

    // Owned by the driver thread.
    private var connections: [HostConnection] = []
    private var waiting = Deque<DaemonJob>()
    private var connecting = false
    private var downUntil: UInt64?
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
            if totalChannels < spec.slots { startConnecting() }
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

    private func startConnecting() {
        guard !connecting else { return }
        connecting = true
        if connections.isEmpty { updateStats { $0.state = downUntil == nil ? .connecting : .down } }
        let spec = spec
        let access = access
        Threads.spawn { [self] in
            let result: Result<Handover<Session>, ClientFailure>
            do throws(ClientFailure) {
                result = .success(Handover(value: try HostConnector.connect(spec, access: access)))
            } catch {
                result = .failure(error)
            }
            inbox.withLock { arrivals.append(result) }
            wake()
        }
    }

    private func connected(_ arrival: Result<Handover<Session>, ClientFailure>) {
        connecting = false
        switch arrival {
        case .success(let handover):
            let sshCompression = handover.value.compressionMethod
            updateStats { $0.sshCompression = sshCompression }
            connections.append(HostConnection(session: handover.value, spec: spec, ioTimeout: access.ioTimeout))
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

    /// A broken connection: its jobs go elsewhere, and a new connection is opened in the background.
    private func lose(_ connection: HostConnection, _ failure: ClientFailure) {
        connections.removeAll { $0 === connection }
        for live in connection.channels {
            if let job = live.job {
                updateStats { $0.jobsFailed += 1 }
                events?.jobFailed(job, on: key, failure)
            }
        }
        if connection.channels.contains(where: \.isBusy) { goDown(failure) }
        updateStats { $0.lastError = failure.summary }
        startConnecting()
    }

    /// Backs the host off: no new jobs for `backoff` seconds, then a probe (a fresh connection).
    private func goDown(_ failure: ClientFailure) {
        let retryAt = Monotonic.nanoseconds() + UInt64(backoff * 1e9)
        let wasUp = downUntil == nil
        downUntil = retryAt
        updateStats {
            $0.state = .down
            $0.lastError = failure.summary
            $0.retryAt = retryAt
        }
        while let job = waiting.popFirst() { events?.jobFailed(job, on: key, failure) }
        if wasUp { events?.hostDown(key, failure, retryInSeconds: backoff) }
    }

    private func probeIfBackoffEnded() {
        guard let until = downUntil, Monotonic.nanoseconds() >= until else { return }
        if connections.isEmpty {
            if !connecting { startConnecting() }
        } else {
            downUntil = nil
            updateStats {
                $0.state = .up
                $0.retryAt = nil
            }
            events?.hostUp(key)
        }
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
