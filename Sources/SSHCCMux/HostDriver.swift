// The one thread that owns everything of one compile host: its SSH connections (libssh2 allows one thread
// per session), their channels, and the jobs the scheduler assigned to it. Other threads talk to it only
// through its inbox, a locked list plus a wake-up pipe that breaks its poll().
//
// Life of a host: connect (on a helper thread, so a slow handshake never stalls running channels), open
// channels ahead of need up to the host's slots, a second connection when sshd refuses more channels
// (MaxSessions). When to connect, and when and for how long the host is backed off, is HostHealth's
// decision (MuxCore); what each channel event means is ChannelLifecycle's. This thread performs them.

import CompileCore
import DequeModule
import DistccWire
import Logging
import MuxCore
import POSIXSupport
import SSH

final class HostDriver: @unchecked Sendable {
    let key: PoolKey
    let spec: HostSpec
    let access: HostAccess
    private weak var events: (any DriverEvents)?
    private let logger: Logger

    // Inbox, guarded by `inbox`.
    private let inbox = Monitor()
    private var incoming: [DaemonJob] = []
    private var arrivals: [Result<Handover<Connected>, SSHCCFailure>] = []
    private var stopRequested = false
    /// Jobs wait in the scheduler's queue: the server's load is asked for more often.
    private var demand = false
    private var stats = HostStats()
    private let wakePipe: WakePipe?

    // Owned by the driver thread.
    private var connections: [ChannelEngine] = []
    /// Jobs the scheduler has placed here (it holds the only queue; each of these has one of this host's
    /// slots) until a channel is ready: a connection or channel may still be opening.
    private var placed = Deque<DaemonJob>()
    private var health: HostHealth
    /// The protocol version the host entry asks for (HostRequest.firstVersion) until the server refuses it;
    /// then an older one, for this daemon's life.
    private var version: DistccVersion
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// The load question in flight, if any.
    private var probe: DaemonJob?
    /// When the server last told its load (ns, Monotonic); nil: not since connecting.
    private var loadAt: UInt64?
    /// The server refused the load question (an older sshccd), or is a stock distccd: never asked.
    private var loadUnsupported: Bool
    /// What the link has shown, for jobs that may ask for their result first (protocol 7), and SSHCC_ASK.
    private var link = AskFirst()
    private let askMode: AskFirst.Mode

    init(
        key: PoolKey, spec: HostSpec, access: HostAccess, backoff: Double, ask: AskFirst.Mode = .auto,
        events: any DriverEvents, logger: Logger
    ) {
        askMode = ask
        self.logger = logger
        self.key = key
        self.spec = spec
        self.access = access
        self.events = events
        health = HostHealth(cap: backoff)
        version = HostRequest.firstVersion(for: spec)
        loadUnsupported = spec.runsStockDistccd
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

    /// Whether placement wants the server's load (jobs wait for a slot, or one runs late there): while it
    /// does, an idle channel asks every `Self.probeInterval` (other users' jobs end without this daemon
    /// hearing of it otherwise).
    func setDemand(_ waiting: Bool) {
        let changed = inbox.withLock {
            defer { demand = waiting }
            return demand != waiting
        }
        if changed && waiting { wake() }
    }

    /// How often the load is asked while jobs wait (ns).
    static let probeInterval: UInt64 = 100_000_000

    var snapshot: HostStats { inbox.withLock { stats } }

    private func wake() { wakePipe?.ring() }

    private func updateStats(_ body: (inout HostStats) -> Void) { inbox.withLock { body(&stats) } }

    // MARK: The loop (driver thread)

    private func run() {
        perform(health.needAnotherConnection())  // the first connection, before the first job needs it
        while true {
            let (jobs, sessions, stopping) = inbox.withLock {
                defer {
                    incoming.removeAll()
                    arrivals.removeAll()
                }
                return (incoming, arrivals, stopRequested)
            }
            if stopping { return shutDown() }
            placed.append(contentsOf: jobs)
            for arrival in sessions { connected(arrival) }
            // A host to tell its load before it gets jobs is connected to while jobs wait (a host that came
            // back from its backoff has no connection, and no job goes there to make one).
            if !placed.isEmpty
                || (connections.isEmpty && loadAt == nil && !loadUnsupported && inbox.withLock({ demand }))
            {
                perform(health.jobWaiting())
            }
            perform(health.tick(now: Monotonic.nanoseconds()))
            serviceConnections()
            dispatchPlaced()
            askLoadIfDue()
            openChannelsAhead()
            publishCounts()
            pollOnce()
        }
    }

    private func pollOnce() {
        var entries = [wakePipe?.pollEntry ?? .nothing]
        for connection in connections {
            connection.session.armQuickAck()
            entries.append(connection.session.pollEntry(connection.pollEvents))
        }
        // A second at most: keepalives, stalled jobs and the backoff clock are checked on each turn; while
        // jobs wait, the load question's interval.
        let waiting = inbox.withLock { demand } && !loadUnsupported
        if Poll.wait(entries, milliseconds: waiting ? Int32(Self.probeInterval / 1_000_000) : 1000)[0] {
            wakePipe?.drain()
        }
    }

    private func serviceConnections() {
        for connection in connections {
            service(connection)
            for event in connection.expireStalledJobs() { handle(event, from: connection) }
        }
    }

    /// Advances one connection and handles what it reports; a broken one is dropped.
    private func service(_ connection: ChannelEngine) {
        do {
            for event in try connection.service(buffer) { handle(event, from: connection) }
        } catch {
            lose(connection, error.failure)
        }
    }

    private func handle(_ event: ConnectionEvent, from connection: ChannelEngine) {
        switch event {
        case .succeeded(let job, let result, let nanoseconds, let traffic, let load, let hostNanoseconds):
            if job.isProbe {
                link.heardRoundTrip(seconds: Double(hostNanoseconds) / 1e9)
                return answered(probe: job, result)
            }
            if let load {
                heard(load)
                link.heardReply(cacheHit: load.cacheHit)
                // A source sent in pieces came at the wrapper's pace, not the link's.
                if let bytes = load.uploadBytes, let microseconds = load.uploadMicroseconds, traffic.piecesAhead == 0 {
                    link.heardUpload(bytes: bytes, seconds: Double(microseconds) / 1e6)
                }
            }
            if let transfer = traffic.replyTransfer {
                link.heardTransfer(bytes: transfer.bytes, seconds: transfer.seconds)
            }
            if let refusal = ServerRefusal(exitCode: result.status.exitCode, stderr: result.stderr),
                refusal.scope != .job
            {
                return refused(job, refusal)
            }
            health.jobSucceeded()
            // A withdrawn job (its preprocessing failed after the source went out) may still be answered
            // by a quick server: the answer has nobody to go to and is not a job done.
            if !job.cancelled {
                updateStats {
                    $0.jobsDone += 1
                    if load?.cacheHit == true { $0.cacheHits += 1 }
                    $0.jobNanoseconds += nanoseconds
                    $0.add(traffic)
                }
            }
            // An answer from the server's object cache says nothing of how fast the host compiles.
            let observation =
                load?.cacheHit == true
                ? nil
                : Scheduler.Observation(
                    compile: load?.compileMilliseconds.map { Double($0) / 1000 }, total: Double(hostNanoseconds) / 1e9,
                    waited: Double(load?.waitedMilliseconds ?? 0) / 1000)
            events?.jobSucceeded(job, on: key, result: result, load: load, observation: observation)
        case .sourceNeeded(let seconds):
            link.heardRoundTrip(seconds: seconds)
            updateStats { $0.sourcesNeeded += 1 }
        case .versionRefused(let job, let refused):
            // An older sshccd: it logged the protocol error; from now on this host gets an older version.
            version = HostRequest.olderVersion(than: refused)
            let now = version
            updateStats {
                $0.protocolVersion = now
                $0.lastError =
                    "the server refused protocol \(refused) "
                    + (now == DistccVersion.plain
                        ? "(compressed bodies); sending uncompressed"
                        : now.reportsLoad
                            ? "(results asked for by digest); always sending the source"
                            : now.streamsSource
                                ? "(load reports); placing by its declared slots"
                                : "(source streamed); sending the source whole")
            }
            placed.prepend(job)
        case .jobFailed(let job, let fault) where job.isProbe:
            // Not asked again before the interval; meanwhile the host is placed by its declared slots, so that
            // a job meets (and reports) whatever is wrong there rather than wait for an answer.
            probe = nil
            loadAt = Monotonic.nanoseconds()
            logger.notice("\(spec): the load question failed: \(failure(fault).summary)")
            events?.loadReported(key, nil)
        case .jobFailed(let job, let fault):
            let failure = failure(fault)
            updateStats {
                $0.jobsFailed += 1
                $0.lastError = failure.summary
            }
            events?.jobFailed(job, on: key, failure, charge: fault.charge)
            // A lost connection is judged once, as a connection (`lose`), not once per job it carried.
            if case .connectionLost = fault { return }
            perform(
                health.jobFailed(failure, charge: fault.charge, now: Monotonic.nanoseconds(), jitter: Self.jitter()))
        case .full:
            if connection.channels.isEmpty && !connection.isOpening {
                // Not one channel on a fresh connection: sshd refuses sessions (MaxSessions 0, a Match
                // block). Reconnecting cannot help; jobs must hear it now, not hang.
                connections.removeAll { $0 === connection }
                perform(health.sessionsRefused(Self.sessionsRefused(spec), now: Monotonic.nanoseconds()))
            } else if totalChannels < spec.slots {
                perform(health.needAnotherConnection())
            }
        case .hostRefused(let failure):
            perform(health.refused(failure, now: Monotonic.nanoseconds()))
        }
    }

    // MARK: The server's load

    /// Asks the server's load on an idle channel: once after connecting (the scheduler places nothing here
    /// before the answer), then every `probeInterval` while jobs wait for a slot.
    private func askLoadIfDue() {
        guard !loadUnsupported, probe == nil, placed.isEmpty, !health.isDown else { return }
        let now = Monotonic.nanoseconds()
        if let loadAt, !(inbox.withLock { demand } && now - loadAt >= Self.probeInterval) { return }
        guard let (connection, channel) = firstReadyChannel
        else { return }
        let question = DaemonJob(id: 0, arguments: ServerQuery.load, pools: [], isProbe: true)
        question.supply([], last: true)
        probe = question
        connection.start(question, on: channel, version: version)
        service(connection)
    }

    private func answered(probe question: DaemonJob, _ result: JobResult) {
        probe = nil
        if result.status.exitCode == 0, let load = ServerLoad(text: result.stdout) {
            heard(load)
            events?.loadReported(key, load)
            return
        }
        // An sshccd before load reports refuses the question as an unknown compiler; anything else is a
        // server saying nonsense. Either way its declared slots are believed from now on.
        loadUnsupported = true
        let why =
            ServerRefusal(exitCode: result.status.exitCode, stderr: result.stderr) != nil
            ? "it does not report its load (an older sshccd)" : "its load report was not understood"
        logger.notice("\(spec): \(why); jobs are placed by its declared slots")
        updateStats { $0.loadNote = why }
        events?.loadReported(key, nil)
    }

    private func heard(_ load: ServerLoad) {
        loadAt = Monotonic.nanoseconds()
        updateStats { $0.load = load }
    }

    /// The server refused the job for its compiler or for every job: counted as refused, not done; a host
    /// that refuses every job is backed off (HostHealth.refused) before the job goes back to the scheduler.
    private func refused(_ job: DaemonJob, _ refusal: ServerRefusal) {
        let what = refusal.scope == .host ? "refuses every job" : "refuses every job of this compiler"
        let failure = SSHCCFailure(.serverRefused, "\(spec) \(what): sshccd: \(refusal.message)")
        updateStats {
            $0.jobsRefused += 1
            $0.lastError = failure.summary
        }
        if refusal.scope == .host { perform(health.refused(failure, now: Monotonic.nanoseconds())) }
        events?.jobRefused(job, on: key, failure, scope: refusal.scope)
    }

    /// The words for a channel's fault.
    private func failure(_ fault: ChannelFault) -> SSHCCFailure {
        switch fault {
        case .ended(let status):
            SSHCCFailure(
                .remoteCrashed,
                "sshccd on \(spec) ended without replying (exit status \(status.map(String.init) ?? "unknown")); "
                    + "see its log on the host")
        case .serverMissing: HostLogin.sshccdMissing(spec)
        case .badReply(let reason): SSHCCFailure(.protocolError, "\(spec) sent a bad reply: \(reason)")
        case .stalled(let seconds): SSHCCFailure(.connectFailed, "\(spec) made no progress in \(seconds) s")
        case .connectionLost(let reason): SSHCCFailure(.connectFailed, reason)
        }
    }

    private static func jitter() -> Double { Double.random(in: 0.75...1.25) }

    /// Carries out what HostHealth decided.
    private func perform(_ actions: [HostHealth.Action]) {
        for action in actions {
            switch action {
            case .connect: startConnecting()
            case .down(let failure, let seconds, let wasUp):
                let retryAt = Monotonic.nanoseconds() + UInt64(seconds * 1e9)
                logger.warning("\(spec): backed off for \(Int(seconds.rounded())) s: \(failure.summary)")
                updateStats {
                    $0.state = .down
                    $0.lastError = failure.summary
                    $0.retryAt = retryAt
                }
                // Nobody here can run the placed jobs: they go back to the scheduler.
                while let job = placed.popFirst() {
                    if job.isProbe {
                        probe = nil
                    } else {
                        events?.jobFailed(job, on: key, failure, charge: .host)
                    }
                }
                if wasUp { events?.hostDown(key, failure) }
            case .up:
                logger.notice("\(spec): takes jobs again (connected, or its backoff is over)")
                let hasConnection = !connections.isEmpty
                updateStats {
                    $0.state = hasConnection ? .up : .disconnected
                    $0.retryAt = nil
                }
                events?.hostUp(key)
            }
        }
    }

    /// Hands placed jobs to idle channels.
    private func dispatchPlaced() {
        while let job = placed.first {
            if job.isOver {
                placed.removeFirst()
                continue
            }
            guard let (connection, channel) = firstReadyChannel
            else { return }
            placed.removeFirst()
            job.whenChanged(by: key.host) { [weak self] in self?.wake() }  // its source arrives, or it is over
            job.markSent(copy: job.racedOn == key.host)
            connection.start(job, on: channel, version: version, ask: (link, askMode))
            service(connection)  // send at once rather than after the next poll
        }
    }

    /// An idle channel, and its connection, if any is ready for a request.
    private var firstReadyChannel: (ChannelEngine, LiveChannel)? {
        connections.lazy.compactMap { c in c.readyChannel.map { (c, $0) } }.first
    }

    private var totalChannels: Int {
        connections.reduce(0) { $0 + $1.usableCount + ($1.isOpening ? 1 : 0) }
    }

    /// Keeps `slots` channels open (or opening), one open at a time per connection.
    private func openChannelsAhead() {
        guard !health.isDown else { return }
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

    // MARK: Connecting and losing connections

    static func sessionsRefused(_ spec: HostSpec) -> SSHCCFailure {
        SSHCCFailure(
            .serverRefused, "\(spec) accepted the login but refuses every session",
            details: [
                "  Its sshd_config allows no session for this account (MaxSessions 0, or a Match block with",
                "  MaxSessions 0 / ForceCommand / DisableForwarding); ask its administrator, or drop the host.",
            ])
    }

    private func startConnecting() {
        if connections.isEmpty { updateStats { $0.state = health.isDown ? .down : .connecting } }
        let spec = spec
        let access = access
        Threads.spawn { [self] in
            let result: Result<Handover<Connected>, SSHCCFailure>
            do throws(SSHCCFailure) {
                result = .success(Handover(value: try HostLogin.connect(spec, access: access)))
            } catch {
                result = .failure(error)
            }
            inbox.withLock { arrivals.append(result) }
            wake()
        }
    }

    private func connected(_ arrival: Result<Handover<Connected>, SSHCCFailure>) {
        switch arrival {
        case .success(let handover):
            let sshCompression = handover.value.session.compressionMethod
            logger.info("\(spec): connected (connection \(connections.count + 1), SSH compression \(sshCompression))")
            connections.append(
                ChannelEngine(
                    session: handover.value.session, spec: spec, ioTimeout: access.ioTimeout,
                    keepalive: handover.value.keepalive))
            updateStats {
                $0.sshCompression = sshCompression
                $0.state = .up
                $0.retryAt = nil
            }
            if connections.count == 1 { loadAt = nil }  // asked again: the server may have changed meanwhile
            perform(health.connected())
        case .failure(let failure):
            logger.warning("\(spec): cannot connect: \(failure.summary)")
            updateStats { $0.lastError = failure.summary }
            perform(health.connectFailed(failure, now: Monotonic.nanoseconds(), jitter: Self.jitter()))
        }
    }

    /// A broken connection: its jobs go elsewhere (charged to their channels); the next job that needs the
    /// host connects again at once.
    private func lose(_ connection: ChannelEngine, _ failure: SSHCCFailure) {
        logger.warning("\(spec): connection lost: \(failure.summary)")
        connections.removeAll { $0 === connection }
        let busy = connection.busyCount > 0
        for event in connection.lost(failure) { handle(event, from: connection) }
        updateStats {
            $0.lastError = failure.summary
            if connections.isEmpty && $0.state == .up { $0.state = .disconnected }
        }
        perform(health.connectionLost(failure, busy: busy, now: Monotonic.nanoseconds(), jitter: Self.jitter()))
    }

    private func shutDown() {
        let stopping = SSHCCFailure(.connectFailed, "the mux daemon is stopping")
        for job in placed where !job.isProbe { events?.jobFailed(job, on: key, stopping, charge: .host) }
        for connection in connections {
            for live in connection.channels {
                if let job = live.life.job, !job.isProbe {
                    events?.jobFailed(job, on: key, stopping, charge: .host)
                }
            }
        }
        // Dropping the connections frees channels and disconnects politely (bounded waits in deinit).
        connections.removeAll()
        wakePipe?.close()
        buffer.deallocate()
    }
}
