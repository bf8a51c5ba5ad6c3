// The daemon's shared state: the Scheduler (pure rules), the host drivers, the jobs in flight. Wrapper
// threads start jobs and wait; driver threads report results. One monitor guards it all; the
// scheduler's actions are carried out here (dispatch to a driver, a local slot, or a failure answer).

import CompileCore
import MuxCore
import POSIXSupport

final class Dispatcher: DriverEvents, @unchecked Sendable {
    private let monitor = Monitor()
    private var scheduler = Scheduler()
    private var drivers: [PoolKey: HostDriver] = [:]
    private var jobs: [Int: DaemonJob] = [:]
    /// Host lists already parsed: a build sends the same one with every job.
    private var hostLists: [String: [HostSpec]] = [:]
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
    let started = Monotonic.nanoseconds()

    init(backoff: Double) { self.backoff = backoff }

    // MARK: Wrappers' side

    enum Started {
        case job(DaemonJob)
        /// Answered at once (a bad host list or request).
        case answer(JobAnswer)
    }

    /// Schedules a job and returns; its answer comes in `job.answer`. A job whose source follows is
    /// scheduled (and its head sent) at once.
    func start(_ submission: JobSubmission) -> Started {
        let specs: [HostSpec]
        do {
            specs = try hostSpecs(submission.hostList)
        } catch {
            return .answer(.failure(code: ExitCode.badHostSpec.rawValue, summary: "\(error)", details: [], notes: []))
        }
        return monitor.withLock {
            forgetExpiredRefusals()
            var pools: [PoolKey] = []
            for spec in specs {
                let key = PoolKey(host: spec.description, access: spec.isLocal ? nil : submission.access)
                scheduler.addPool(key, slots: spec.slots)
                if !spec.isLocal && drivers[key] == nil {
                    let driver = HostDriver(
                        key: key, spec: spec, access: submission.access, backoff: backoff, events: self)
                    drivers[key] = driver
                    driver.start()
                }
                if !pools.contains(key) { pools.append(key) }
            }
            latestPools = Set(pools)
            let job = DaemonJob(
                id: nextID, arguments: submission.arguments, pools: pools, toolchain: submission.toolchain)
            nextID += 1
            jobs[job.id] = job
            perform(scheduler.submit(job.ticket))
            return .job(job)
        }
    }

    private func hostSpecs(_ text: String) throws -> [HostSpec] {
        if let specs = monitor.withLock({ hostLists[text] }) { return specs }
        let specs = try HostList.parse(text)
        monitor.withLock {
            if hostLists.count >= 64 { hostLists.removeAll() }
            hostLists[text] = specs
        }
        return specs
    }

    /// The wrapper left before its answer (its preprocessing failed, before or after it sent the source): the
    /// job is dropped; a channel that already has its head is closed by its driver.
    func cancel(_ job: DaemonJob) {
        monitor.withLock {
            jobs[job.id] = nil
            job.cancel()
            perform(scheduler.cancelled(job.id))  // also frees a local slot it was given meanwhile
        }
    }

    /// A wrapper that ran its job in a local slot has finished (its connection closed).
    func localSlotReleased(_ job: DaemonJob) {
        monitor.withLock { perform(scheduler.finished(job.id)) }
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
        monitor.withLock { for driver in drivers.values { driver.stop() } }
    }

    // MARK: Drivers' side

    func jobSucceeded(_ job: DaemonJob, on key: PoolKey, result: JobResult) {
        monitor.withLock {
            let refusal = ServerRefusal(exitCode: result.status.exitCode, stderr: result.stderr)
            if let refusal, refusal.message.hasPrefix(ToolchainCheck.differs) {
                // Another toolchain there: the job goes elsewhere; the wrapper hears of it once per host.
                let told = "\(key.host) \(job.ticket.toolchain ?? "")"
                if toolchainsTold.insert(told).inserted {
                    job.toolchainNotes.append("\(key.host): \(refusal.message): no jobs for it go there")
                }
                perform(scheduler.toolchainDiffers(job.ticket))
                return
            }
            if let toolchain = job.ticket.toolchain, refusal == nil {
                scheduler.toolchainMatched(toolchain, on: key)
            }
            jobs[job.id] = nil
            job.answer.fulfil(.compiled(host: key.host, result: result, notes: job.notes()))
            perform(scheduler.finished(job.id))
        }
    }

    func jobFailed(_ job: DaemonJob, on key: PoolKey, _ failure: SSHCCFailure, charge: FailureCharge) {
        monitor.withLock {
            job.failures.append((key.host, failure))
            perform(scheduler.failed(job.ticket, charge: charge))
        }
    }

    func jobRefused(_ job: DaemonJob, on key: PoolKey, _ failure: SSHCCFailure, scope: RefusalScope) {
        monitor.withLock {
            if scope == .compiler {
                refusalsUntil[key, default: [:]][job.ticket.compiler] =
                    Monotonic.nanoseconds() + UInt64(backoff * 1e9)
            }
            perform(scheduler.refused(job.ticket, compiler: scope == .compiler ? failure : nil))
        }
    }

    func hostDown(_ key: PoolKey, _ failure: SSHCCFailure) {
        monitor.withLock { perform(scheduler.setDown(key, because: failure)) }
    }

    /// A host back up starts afresh: its next failure is told again. (Not on going down: the jobs it sends
    /// back as it goes down are answered first, and their failure is this outage's.)
    func hostUp(_ key: PoolKey) {
        monitor.withLock {
            failuresTold[key.host] = nil
            perform(scheduler.setDown(key, because: nil))
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
                perform(scheduler.forgetRefusal(key, compiler: compiler))
            }
        }
    }

    /// Whether a wrapper already printed the failure `summary` of `host` (and remembers that one now has).
    private func alreadyTold(_ host: String, _ summary: String) -> Bool {
        !failuresTold[host, default: []].insert(summary).inserted
    }

    // MARK: Carrying out the scheduler's actions (under the monitor)

    private func perform(_ actions: [Scheduler.Action]) {
        for action in actions {
            switch action {
            case .dispatch(let ticket, let key):
                guard let job = jobs[ticket.id] else { continue }
                job.ticket = ticket
                if key.isLocal {
                    job.answer.fulfil(.runLocally(notes: job.notes()))
                    jobs[job.id] = nil
                } else {
                    drivers[key]?.assign(job)
                }
            case .fail(let ticket, let reason):
                guard let job = jobs.removeValue(forKey: ticket.id) else { continue }
                job.ticket = ticket
                job.answer.fulfil(failureAnswer(job, reason))
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
            return .failure(
                code: failure.code.rawValue, summary: failure.summary, details: failure.details, notes: job.notes(),
                alreadyTold: alreadyTold(key.host, failure.summary))
        }
        if reason == .retriesExhausted, let (host, failure) = job.failures.last {
            // The last failure is the answer itself; the notes tell of the ones before it. Jobs sent back
            // by a host going down all end here with its one reason: said once.
            let notes = job.notes(dropping: 1)
            return .failure(
                code: failure.code.rawValue, summary: failure.summary, details: failure.details, notes: notes,
                alreadyTold: alreadyTold(host, failure.summary))
        }
        let down = job.ticket.pools.compactMap { key in scheduler.pools[key]?.down.map { (key, $0) } }
        guard let (key, failure) = down.first else {
            return .failure(
                code: ExitCode.noHosts.rawValue, summary: "no compile host is up", details: [], notes: job.notes())
        }
        let others = down.dropFirst().map { "\($0.0.host): \($0.1.summary)" }
        let summary =
            failure.summary.contains(key.host) ? failure.summary : "\(key.host): \(failure.summary)"
        return .failure(
            code: failure.code.rawValue,
            summary: summary + (down.count > 1 ? " (and \(down.count - 1) more host(s) down)" : ""),
            details: failure.details + others.map { "  also down: \($0)" }, notes: job.notes(),
            alreadyTold: alreadyTold(key.host, failure.summary))
    }

    // MARK: Status

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
                        notInCurrentList: !latestPools.contains(key)))
            }
            let local = scheduler.pools.filter(\.key.isLocal).map { ($0.value.slots, $0.value.busy) }.first
            return StatusReport(
                uptimeSeconds: Double(Monotonic.nanoseconds() - started) / 1e9, hosts: hosts,
                running: scheduler.running.count, queued: scheduler.queue.count, local: local, clients: clients)
        }
    }
}
