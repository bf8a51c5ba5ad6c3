// The daemon's shared state: the Scheduler (pure rules), the host drivers, the jobs in flight. Wrapper
// threads start jobs and wait; driver threads report results. One monitor guards it all; the
// scheduler's actions are carried out here (dispatch to a driver, a local slot, or a failure answer).

import CompileCore
import Logging
import MuxCore
import POSIXSupport

final class Dispatcher: DriverEvents, @unchecked Sendable {
    private let monitor = Monitor()
    private var scheduler = Scheduler()
    private var drivers: [PoolKey: HostDriver] = [:]
    private var jobs: [Int: DaemonJob] = [:]
    /// Jobs their wrappers compile in local slots, until the wrapper is done.
    private var localJobs: [Int: DaemonJob] = [:]
    /// The latest failures (a host failing or refusing a job, a job sent back to its wrapper), newest last.
    private var recentFailures = StatusReport.RecentFailures()
    /// Jobs sent back to their wrappers to compile locally, by reason: the summary of what the quiet ones met.
    private var sentBack: [String: Int] = [:]
    /// Host lists already parsed: a build sends the same one with every job.
    private var hostLists: [String: (specs: [HostSpec], problems: [HostList.Problem])] = [:]
    /// Host lists whose bad entries a wrapper was already told of.
    private var listsWarned: Set<String> = []
    private var nextID = 1
    /// Host and compiler pairs whose different toolchain a wrapper was already told of.
    private var toolchainsTold: Set<String> = []
    /// Failures a wrapper already printed, by host (a host down, refusing, or refusing a compiler): later jobs
    /// meeting the same one during the same backoff fall back quietly.
    private var failuresTold: [String: Set<String>] = [:]
    /// When each refused compiler may be tried again on its host (ns, Monotonic).
    private var refusalsUntil: [PoolKey: [String: UInt64]] = [:]
    /// The hosts of the latest job's list: `--status` marks the others (a list since changed).
    private var latestPools: Set<PoolKey> = []
    private var clients = 0
    private var lastActivity = Monotonic.nanoseconds()
    let backoff: Double
    /// SSHCC_ASK: whether jobs ask for their result by the source's digest first (AskFirst).
    let ask: AskFirst.Mode
    let logger: Logger
    let started = Monotonic.nanoseconds()
    /// Where the hosts' learned speeds are kept between daemons (SSHCC_DIR/speeds); nil: not kept.
    let speedsPath: String?
    private var speedsSavedAt: UInt64 = 0
    private var speedsSaved: [String: HostSpeed] = [:]

    init(backoff: Double, ask: AskFirst.Mode = .auto, logger: Logger, speedsPath: String? = nil) {
        self.backoff = backoff
        self.ask = ask
        self.logger = logger
        self.speedsPath = speedsPath
        if let speedsPath, let bytes = try? Files.read(speedsPath, limit: 1 << 20) {
            scheduler.speeds = HostSpeedFile.parse(String(decoding: bytes, as: UTF8.self))
            speedsSaved = scheduler.speeds
        }
    }

    /// Feeds the scheduler one event at the current time and carries out what it decides (under the monitor).
    private func schedule(_ event: (inout Scheduler) -> [Scheduler.Action]) {
        scheduler.now = Double(Monotonic.nanoseconds()) / 1e9
        perform(event(&scheduler))
        for (key, driver) in drivers { driver.setDemand(scheduler.wantsLoad(key)) }
        saveSpeeds()
    }

    /// Writes the learned speeds when they changed, at most every few seconds (and when the daemon stops).
    private func saveSpeeds(force: Bool = false) {
        guard let speedsPath, scheduler.speeds != speedsSaved else { return }
        let now = Monotonic.nanoseconds()
        guard force || now - speedsSavedAt >= 5_000_000_000 else { return }
        speedsSavedAt = now
        speedsSaved = scheduler.speeds
        do {
            try Files.replace(speedsPath, Array(HostSpeedFile.text(scheduler.speeds).utf8), mode: 0o600)
        } catch {
            logger.warning("cannot keep the hosts' learned speeds: \(error)")
        }
    }

    // MARK: Wrappers' side

    enum Started {
        case job(DaemonJob)
        /// Answered at once (a bad host list or request).
        case answer(JobAnswer)
    }

    /// Schedules a job and returns; its answer comes in `job.answer`. A job whose source follows is
    /// scheduled (and its head sent) at once.
    func start(_ submission: JobSubmission) -> Started {
        let (specs, problems) = hostSpecs(submission.hostList)
        let source = submission.hostListSource ?? "the host list"
        if specs.isEmpty, let first = problems.first {
            return .answer(
                .failure(code: ExitCode.badHostSpec.rawValue, summary: "\(source) \(first)", details: [], notes: []))
        }
        return monitor.withLock {
            forgetExpiredRefusals()
            var pools: [PoolKey] = []
            for spec in specs {
                let key = PoolKey(host: spec.description, access: spec.isLocal ? nil : submission.access)
                // sshccd tells its load (stock distccd cannot): nothing goes there before it has.
                scheduler.addPool(key, slots: spec.slots, awaitsLoad: !spec.isLocal && !spec.runsStockDistccd)
                if !spec.isLocal && drivers[key] == nil {
                    let driver = HostDriver(
                        key: key, spec: spec, access: submission.access, backoff: backoff, ask: ask, events: self,
                        logger: logger)
                    drivers[key] = driver
                    driver.start()
                }
                if !pools.contains(key) { pools.append(key) }
            }
            latestPools = Set(pools)
            let job = DaemonJob(
                id: nextID, arguments: submission.arguments, pools: pools, toolchain: submission.toolchain)
            nextID += 1
            // A bad entry is skipped, and said once per list (the wrappers of a build all send the same one).
            if !problems.isEmpty && listsWarned.insert(submission.hostList).inserted {
                job.onceNotes += problems.map { "warning: \(source) \($0); the entry is skipped" }
                logger.warning("\(source): \(problems.map(\.description).joined(separator: "; "))")
            }
            jobs[job.id] = job
            schedule { $0.submit(job.ticket) }
            return .job(job)
        }
    }

    private func hostSpecs(_ text: String) -> (specs: [HostSpec], problems: [HostList.Problem]) {
        if let parsed = monitor.withLock({ hostLists[text] }) { return parsed }
        let parsed = HostList.parseSkippingBad(text)
        monitor.withLock {
            if hostLists.count >= 64 { hostLists.removeAll() }
            hostLists[text] = parsed
        }
        return parsed
    }

    /// The wrapper left before its answer (its preprocessing failed, before or after it sent the source): the
    /// job is dropped; a channel that already has its head is closed by its driver.
    func cancel(_ job: DaemonJob) {
        monitor.withLock {
            jobs[job.id] = nil
            localJobs[job.id] = nil
            job.cancel()
            schedule { $0.cancelled(job.id) }  // also frees a local slot it was given meanwhile
        }
    }

    /// The wrapper has sent the job's whole source: placement now knows its size.
    func sourceComplete(_ job: DaemonJob) {
        let bytes = job.sourceBytes
        monitor.withLock {
            guard jobs[job.id] != nil else { return }
            schedule { $0.sized(job.id, bytes: bytes) }
        }
    }

    /// A wrapper that ran its job in a local slot has finished (its connection closed).
    func localSlotReleased(_ job: DaemonJob) {
        monitor.withLock {
            localJobs[job.id] = nil
            logger.debug("job \(job.id) \(job.file): compiled locally")
            let total = Double(Monotonic.nanoseconds() - (job.placed?.at ?? job.submitted)) / 1e9
            schedule { $0.finished(job.id, observation: Scheduler.Observation(compile: nil, total: total)) }
        }
    }

    func clientArrived() { monitor.withLock { clients += 1 } }
    func clientLeft() {
        monitor.withLock {
            clients -= 1
            lastActivity = Monotonic.nanoseconds()
        }
    }

    /// Seconds since the last wrapper left, or nil while any wrapper or job is active.
    var idleSeconds: Double? {
        monitor.withLock {
            guard clients == 0, jobs.isEmpty else { return nil }
            return Double(Monotonic.nanoseconds() - lastActivity) / 1e9
        }
    }

    func stopDrivers() {
        monitor.withLock {
            saveSpeeds(force: true)
            for driver in drivers.values { driver.stop() }
        }
    }

    // MARK: Drivers' side

    func jobSucceeded(
        _ job: DaemonJob, on key: PoolKey, result: JobResult, load: ServerLoad?, observation: Scheduler.Observation?
    ) {
        monitor.withLock {
            // Another copy of a raced job answered first: this one was too late.
            guard jobs[job.id] === job else { return }
            let refusal = ServerRefusal(exitCode: result.status.exitCode, stderr: result.stderr)
            if let refusal, refusal.message.hasPrefix(ToolchainCheck.differs) {
                // Another toolchain there: the job goes elsewhere; the wrapper hears of it once per host.
                let told = "\(key.host) \(job.ticket.toolchain ?? "")"
                if toolchainsTold.insert(told).inserted {
                    job.onceNotes.append("\(key.host): \(refusal.message): no jobs for it go there")
                }
                unplace(job, from: key)
                schedule { scheduler in
                    scheduler.toolchainDiffers(job.ticket, on: key)
                        + (load.map { scheduler.loadReported(key, $0) } ?? [])
                }
                return
            }
            if let toolchain = job.ticket.toolchain, refusal == nil {
                scheduler.toolchainMatched(toolchain, on: key)
            }
            jobs[job.id] = nil
            logger.debug(
                "job \(job.id) \(job.file): \(load?.cacheHit == true ? "cache hit on" : "compiled on") \(key.host), status \(result.status.shellStatus), \(StatusReport.seconds(Double(Monotonic.nanoseconds() - job.submitted) / 1e9))"
            )
            if let raced = job.racedOn {
                logger.info("job \(job.id) \(job.file): raced on \(raced); \(key.host) answered first")
            }
            job.finish(
                .compiled(host: key.host, result: result, notes: job.notes(), fromCache: load?.cacheHit == true))
            schedule { scheduler in
                // The job ends before the load it reported is taken in: no race is started for it meanwhile.
                scheduler.finished(job.id, on: key, observation: observation)
                    + (load.map { scheduler.loadReported(key, $0) } ?? [])
            }
        }
    }

    func jobFailed(_ job: DaemonJob, on key: PoolKey, _ failure: SSHCCFailure, charge: FailureCharge) {
        monitor.withLock {
            guard jobs[job.id] === job else { return }  // answered by another copy meanwhile
            job.failures.append((key.host, failure))
            remember(failure, of: job, on: key.host)
            unplace(job, from: key)
            schedule { $0.failed(job.ticket, on: key, charge: charge) }
        }
    }

    func jobRefused(_ job: DaemonJob, on key: PoolKey, _ failure: SSHCCFailure, scope: RefusalScope) {
        monitor.withLock {
            guard jobs[job.id] === job else { return }
            remember(failure, of: job, on: key.host)
            unplace(job, from: key)
            if scope == .compiler {
                refusalsUntil[key, default: [:]][job.ticket.compiler] =
                    Monotonic.nanoseconds() + UInt64(backoff * 1e9)
            }
            schedule { $0.refused(job.ticket, on: key, compiler: scope == .compiler ? failure : nil) }
        }
    }

    /// Time passed: placement looks again (a straggler may now be worth racing). Only while jobs are held.
    func tick() {
        monitor.withLock {
            guard !scheduler.running.isEmpty || !scheduler.queue.isEmpty else { return }
            schedule { $0.tick() }
        }
    }

    func loadReported(_ key: PoolKey, _ load: ServerLoad?) {
        monitor.withLock { schedule { $0.loadReported(key, load) } }
    }

    func hostDown(_ key: PoolKey, _ failure: SSHCCFailure) {
        monitor.withLock {
            remember(failure, of: nil, on: key.host)
            schedule { $0.setDown(key, because: failure) }
        }
    }

    /// A host back up starts afresh: its next failure is told again. (Not on going down: the jobs it sends
    /// back as it goes down are answered first, and their failure is this outage's.)
    func hostUp(_ key: PoolKey) {
        monitor.withLock {
            failuresTold[key.host] = nil
            schedule { $0.setDown(key, because: nil) }
        }
    }

    /// Compilers refused longer ago than the backoff may be tried again (the administrator may have
    /// installed one).
    private func forgetExpiredRefusals() {
        let now = Monotonic.nanoseconds()
        for (key, compilers) in refusalsUntil {
            for (compiler, until) in compilers where until <= now {
                refusalsUntil[key]?[compiler] = nil
                if let failure = scheduler.refusals[key]?[compiler] { failuresTold[key.host]?.remove(failure.summary) }
                schedule { $0.forgetRefusal(key, compiler: compiler) }
            }
        }
    }

    /// Keeps a failure for `--status` and logs it (under the monitor).
    private func remember(_ failure: SSHCCFailure, of job: DaemonJob?, on host: String) {
        logger.warning("\(job.map { "job \($0.id) \($0.file): " } ?? "")\(host): \(failure.summary)")
        recentFailures.add(
            StatusReport.Failure(time: WallClock.timestamp(), host: host, file: job?.file, summary: failure.summary))
    }

    /// The job's copy on `key` is gone: with no other copy running, no host has it now.
    private func unplace(_ job: DaemonJob, from key: PoolKey) {
        if job.racedOn == key.host {
            job.racedOn = nil
            return
        }
        if let raced = job.racedOn {
            // The first copy failed; the raced one carries on as the job's only copy.
            job.placed = (raced, job.placed?.at ?? Monotonic.nanoseconds())
            job.racedOn = nil
            return
        }
        job.placed = nil
        job.markUnsent()
    }

    /// Whether a wrapper already printed the failure `summary` of `host` (and remembers that one now has); the
    /// first telling says that later jobs will be quiet, and where they are counted.
    private func tellOnce(_ host: String, _ summary: String, _ details: [String]) -> (details: [String], told: Bool) {
        if !failuresTold[host, default: []].insert(summary).inserted { return (details, true) }
        return (
            details + [
                "  (said once: later jobs meeting it compile locally without a word; sshcc --status counts them)"
            ], false
        )
    }

    // MARK: Carrying out the scheduler's actions (under the monitor)

    private func perform(_ actions: [Scheduler.Action]) {
        for action in actions {
            switch action {
            case .dispatch(let ticket, let key):
                guard let job = jobs[ticket.id] else { continue }
                if let first = job.placed?.host, first != key.host {
                    // A straggler raced by a copy on a host that is free now.
                    job.racedOn = key.host
                    logger.info("job \(job.id) \(job.file): still running on \(first); a copy races it on \(key.host)")
                    drivers[key]?.assign(job)
                    continue
                }
                job.ticket = ticket
                job.placed = (key.host, Monotonic.nanoseconds())
                if key.isLocal {
                    job.finish(.runLocally(notes: job.notes()))
                    jobs[job.id] = nil
                    localJobs[job.id] = job
                } else {
                    drivers[key]?.assign(job)
                }
            case .withdraw(let id, let key):
                logger.debug("job \(id): its copy on \(key.host) is withdrawn (the other answered first)")
            case .fail(let ticket, let reason):
                guard let job = jobs.removeValue(forKey: ticket.id) else { continue }
                job.ticket = ticket
                let answer = failureAnswer(job, reason)
                if case .failure(_, let summary, _, _, _) = answer {
                    sentBack[summary, default: 0] += 1
                    logger.info("job \(job.id) \(job.file): back to its wrapper (local compile): \(summary)")
                }
                job.finish(answer)
            }
        }
    }

    private func failureAnswer(_ job: DaemonJob, _ reason: Scheduler.FailReason) -> JobAnswer {
        if reason == .toolchainDiffers {
            let compiler = PathName.base(job.arguments.first ?? "")
            let summary = job.toolchain.map { String(ToolchainCheck.summary($0)) } ?? ""
            return .failure(
                code: ExitCode.toolchainDiffers.rawValue,
                summary: "no compile host has this machine's \(compiler) (\(summary))", details: [],
                notes: job.notes(), alreadyTold: true)  // each differing host is named once, in the notes
        }
        if reason == .compilerRefused,
            let (key, failure) = job.ticket.pools.lazy.compactMap({ key in
                self.scheduler.refusals[key]?[job.ticket.compiler].map { (key, $0) }
            }).first
        {
            let (details, told) = tellOnce(key.host, failure.summary, failure.details)
            return .failure(
                code: failure.code.rawValue, summary: failure.summary, details: details, notes: job.notes(),
                alreadyTold: told)
        }
        if reason == .retriesExhausted, let (host, failure) = job.failures.last {
            // The last failure is the answer itself; the notes tell of the ones before it. Jobs sent back
            // by a host going down all end here with its one reason: said once.
            let notes = job.notes(dropping: 1)
            let (details, told) = tellOnce(host, failure.summary, failure.details)
            return .failure(
                code: failure.code.rawValue, summary: failure.summary, details: details, notes: notes,
                alreadyTold: told)
        }
        let down = job.ticket.pools.compactMap { key in scheduler.pools[key]?.down.map { (key, $0) } }
        guard let (key, failure) = down.first else {
            return .failure(
                code: ExitCode.noHosts.rawValue, summary: "no compile host is up", details: [], notes: job.notes())
        }
        let others = down.dropFirst().map { "\($0.0.host): \($0.1.summary)" }
        let summary =
            failure.summary.contains(key.host) ? failure.summary : "\(key.host): \(failure.summary)"
        let (details, told) = tellOnce(key.host, failure.summary, failure.details + others.map { "  also down: \($0)" })
        return .failure(
            code: failure.code.rawValue,
            summary: summary + (down.count > 1 ? " (and \(down.count - 1) more host(s) down)" : ""),
            details: details, notes: job.notes(), alreadyTold: told)
    }

    // MARK: Status

    /// Where a job is and what it waits for (under the monitor).
    private func jobLine(_ job: DaemonJob, now: UInt64) -> StatusReport.Job {
        guard let (host, at) = job.placed else {
            let busy = job.ticket.pools.compactMap { scheduler.pools[$0] }.filter(\.up)
            let slots = busy.reduce(0) { $0 + $1.slots }
            return StatusReport.Job(
                id: job.id, file: job.file, state: .queued, host: nil,
                seconds: Double(now - job.submitted) / 1e9,
                waiting: slots == 0 ? "a host to come back" : "a free slot (all \(slots) busy)")
        }
        guard let sent = job.sentToServer else {
            return StatusReport.Job(
                id: job.id, file: job.file, state: .queued, host: host, seconds: Double(now - at) / 1e9,
                waiting: "a channel to \(host) (connecting)")
        }
        return StatusReport.Job(
            id: job.id, file: job.file, state: .running, host: host, seconds: Double(now - sent) / 1e9,
            waiting: job.sourceComplete ? nil : "the rest of its source (the preprocessor still runs)")
    }

    func statusReport() -> StatusReport {
        monitor.withLock {
            var hosts: [StatusReport.Host] = []
            for (key, driver) in drivers.sorted(by: { $0.key.host < $1.key.host }) {
                let pool = scheduler.pools[key]
                hosts.append(
                    StatusReport.Host(
                        name: key.host, slots: pool?.slots ?? 0, stats: driver.snapshot,
                        toolchains: scheduler.toolchains[key] ?? [:], unverified: driver.spec.runsStockDistccd,
                        refusedCompilers: (scheduler.refusals[key] ?? [:]).mapValues(\.summary),
                        notInCurrentList: !latestPools.contains(key), speed: speed(key),
                        capacity: scheduler.capacity(of: key)))
            }
            let localKey = scheduler.pools.keys.first(where: \.isLocal)
            let local = localKey.flatMap { scheduler.pools[$0] }.map { ($0.slots, $0.busy) }
            let now = Monotonic.nanoseconds()
            let lines =
                (jobs.values.map { jobLine($0, now: now) }
                + localJobs.values.map { job in
                    StatusReport.Job(
                        id: job.id, file: job.file, state: .local, host: "localhost",
                        seconds: Double(now - (job.placed?.at ?? job.submitted)) / 1e9, waiting: nil)
                }).sorted { $0.id < $1.id }
            return StatusReport(
                uptimeSeconds: Double(now - started) / 1e9, hosts: hosts,
                running: scheduler.running.count, queued: scheduler.queue.count, local: local,
                localSpeed: localKey.flatMap(speed), clients: clients,
                farmCapacity: latestPools.reduce(0) { sum, key in
                    guard let pool = scheduler.pools[key], pool.up else { return sum }
                    return sum + (key.isLocal ? pool.slots : pool.busy + scheduler.freeNow(key))
                }, jobs: lines, recentFailures: recentFailures.lines,
                sentBack: sentBack)
        }
    }

    /// A pool's learned speed for status (under the monitor); nil while nothing is learned.
    private func speed(_ key: PoolKey) -> StatusReport.Speed? {
        guard let learned = scheduler.speeds[key.host] else { return nil }
        return StatusReport.Speed(
            seconds: learned.seconds(for: scheduler.usualSize), overhead: learned.overheadSeconds,
            samples: learned.samples)
    }
}
