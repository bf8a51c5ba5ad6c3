// Runs one compile job: a private directory, the preprocessed source written there, a compile slot, the
// allowed compiler run in two limited steps (assembly, checked, then the object), the object read back, the
// directory removed. Refusals and stopped jobs become refusal replies, so the client compiles locally.

import CompileCore
import DistccWire
import Logging
import ObjectCache
import POSIXSupport
import ServerPolicy
import Toolchains

/// What became of a request.
public enum JobOutcome {
    case reply(Reply)
    /// The client closed the stream while the job waited or compiled; nothing is left to answer.
    case abandoned
    /// A question (version 7) whose result is not in the object cache: the source is needed; the job, got
    /// ready, waits for it.
    case needSource(PreparedJob?)
}

/// Turns requests into replies. One runner serves all jobs of one sshccd process.
public struct JobRunner {
    let options: ServerOptions
    var logger: Logger
    public private(set) var jobsServed = 0
    /// Compiler paths found on PATH, per name: one sshccd serves many jobs on a channel.
    private var compilerPaths: [String: String] = [:]
    /// Each compiler's own installation, for its sandbox.
    private let installations = CompilerInstallation()
    /// gcc's steps without their driver, per flag set (`--direct-steps`).
    private var directSteps = DirectSteps()
    private lazy var gccPlugins = GCCPlugins(directory: options.gccPluginDirectory)
    /// Each compiler's toolchain identity, computed at its first job that carries a client's (or, with the
    /// object cache, at its first job).
    private var toolchains: [String: ToolchainIdentity?] = [:]
    /// The object cache, opened at the first job that could use it (nil: off, or unusable — logged once).
    private lazy var objectStore: ObjectStore? = openObjectStore()

    public init(options: ServerOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    public var limits: WireLimits { options.wireLimits }

    /// Refusals carry this exit status and an `sshccd: ` prefix in SERR, so sshcc can tell a refused job
    /// (fall back locally) from a failed compile (the user's error). Docs/protocol.md, "Refusals".
    public static func refusal(_ message: String, scope: RefusalScope = .job) -> Reply {
        Reply(
            status: Reply.exitStatus(ExitCode.serverRefused.rawValue),
            stderr: ServerRefusal(message, scope: scope).stderr)
    }

    /// Job directories are `sshccd-<pid>-XXXXXX`: the PID lets a later sshccd tell a crashed one's leftovers.
    public static let directoryPrefix = "sshccd-"

    /// Gets a job ready from its command line alone, while its source is still on the way: directory, plan,
    /// compiler, and for gcc a free slot (only if one is free now) with both steps started, reading stdin.
    /// Nil when the command line will be refused: `run` then says why.
    public mutating func prepare(_ arguments: [String]) -> PreparedJob? {
        guard case .ready(let job) = setUp(arguments) else { return nil }
        guard job.plan.readsStandardInput, let slot = JobSlots.tryAcquire(options.slots) else { return job }
        job.slot = slot
        JobSlots.announce(slot, options.slots, file: PathName.source(in: arguments))
        let compiler = CompilerRun(job, watch: nil, sandbox: sandboxReadable(job.executable, in: job.directory))
        job.assemblyPipe = try? AssemblyPipe.make(at: job.plan.assemblyPath)
        if job.assemblyPipe != nil {
            job.compile = try? start(compiler, step(job, job.plan.arguments), readsInput: true)
        }
        job.assemble = try? start(compiler, step(job, job.plan.assembleArguments), readsInput: true)
        logger.info(
            "prepared: job \(jobsServed + 1) ready ahead of its source\(job.compile == nil ? "" : ", gcc started")")
        return job
    }

    /// Compiles `request`, with what `prepare` got ready for it (used only if its command line is the same).
    /// `upload`: how its source arrived (UploadClock), told back in the reply's load.
    public mutating func run(
        _ request: Request, prepared: PreparedJob? = nil, watch: StreamWatch? = nil,
        upload: (bytes: Int, microseconds: Int)? = nil
    ) -> JobOutcome {
        if request.arguments == ServerQuery.recentFailures { return .reply(recentFailures()) }
        if request.arguments == ServerQuery.load {
            return .reply(Reply(status: 0, stdout: Array(JobSlots.load(options.slots).text.utf8)))
        }
        let outcome = runJob(request, prepared: prepared, watch: watch)
        guard case .reply(var reply) = outcome else { return outcome }
        if request.version.reportsLoad {
            // Taken after the job's slot went back: what the next job would find.
            var load = JobSlots.load(options.slots)
            (load.compileMilliseconds, load.waitedMilliseconds) = (lastTiming.compile, lastTiming.waited)
            load.cacheHit = lastTiming.cacheHit
            (load.uploadBytes, load.uploadMicroseconds) = (upload?.bytes, upload?.microseconds)
            reply.load = Array(load.text.utf8)
        }
        return .reply(reply)
    }

    /// The latest job's compile and slot-wait times (ms), for its reply's load report.
    private var lastTiming: (compile: Int?, waited: Int?, cacheHit: Bool?) = (nil, nil, nil)

    private mutating func runJob(_ request: Request, prepared: PreparedJob?, watch: StreamWatch?) -> JobOutcome {
        lastTiming = (nil, 0, nil)
        jobsServed += 1
        let job = jobsServed
        let started = Monotonic.nanoseconds()
        let outcome: Step
        switch ready(request.arguments, prepared) {
        case .refused(let reason, let scope): outcome = .refused(reason, scope)
        case .ready(let ready):
            if let digest = request.sourceDigest {
                switch recall(ready, digest: digest, number: job, watch: watch) {
                case .step(let step): outcome = step
                case .missing:
                    jobsServed -= 1  // not a job yet: its source is asked for
                    return .needSource(ready)
                }
            } else {
                outcome = compileOrRecall(request, ready, number: job, watch: watch)
            }
        }
        switch outcome {
        case .refused(let reason, let scope):
            logger.warning("job \(job): refused: \(reason)")
            return .reply(Self.refusal(reason, scope: scope))
        case .abandoned:
            logger.notice("job \(job): the client went away; compile stopped, nothing left behind")
            return .abandoned
        case .done(let reply, let summary):
            logger.info("job \(job): \(summary) \(Monotonic.milliseconds(since: started))ms")
            return .reply(reply)
        }
    }

    /// This account's latest failures from its log, leaving out the asking connection's own (the doctor's
    /// probes of compilers this server lacks are no news to it).
    func recentFailures() -> Reply {
        let asker = logger[metadataKey: "client"].map { "client=\($0)" }
        let lines = ((try? LogTail.read(options.logPath)) ?? []).filter { line in
            asker.map { !line.hasSuffix($0) } ?? true
        }
        let failures = LogTail.failureLines(lines).suffix(ServerQuery.recentFailureLines)
        return Reply(status: 0, stdout: Array(failures.map { $0 + "\n" }.joined().utf8))
    }

    private enum Step {
        case refused(String, RefusalScope = .job)
        case abandoned
        case done(Reply, summary: String)
    }

    private enum SetUp {
        case refused(String, RefusalScope = .job)
        case ready(PreparedJob)
    }

    /// The job's directory, plan and compiler: what does not need the source.
    private mutating func setUp(_ arguments: [String]) -> SetUp {
        if let problem = options.configurationProblem { return .refused(problem, .host) }
        let directory: String
        do {
            directory = try Files.makeTemporaryDirectory(
                in: options.temporaryDirectory, prefix: Self.directoryPrefix + "\(CurrentProcess.id)-")
        } catch {
            logger.error("cannot make a job directory: \(error)")
            return .refused("cannot make a job directory on the server: \(error)", .host)
        }
        var plan: ServerCompile
        switch ServerArgPolicy.plan(arguments, allowList: options.allowList, jobDirectory: directory) {
        case .refuse(let reason):
            Files.removeTree(directory)
            // A compiler this server does not allow refuses every job of it, not just this one.
            let notAllowed = options.allowList.allowedName(for: arguments.first ?? "") == nil
            return .refused(reason, notAllowed ? .compiler : .job)
        case .compile(let planned): plan = planned
        }
        guard let executable = compilerPaths[plan.compilerName] ?? Environment.findExecutable(plan.compilerName)
        else {
            Files.removeTree(directory)
            return .refused("compiler '\(plan.compilerName)' is allowed but not installed on this server", .compiler)
        }
        compilerPaths[plan.compilerName] = executable
        if let client = plan.clientToolchain, let reason = toolchainRefusal(client, plan.compilerName, executable) {
            Files.removeTree(directory)
            return .refused(reason)
        }
        if plan.directivesOnly {
            var plugins = gccPlugins
            let plugin = plugins.plugin(for: executable) { pluginLoads($0, into: executable, in: directory) }
            gccPlugins = plugins
            if let plugin {
                plan.arguments.insert("-fplugin=" + plugin, at: 0)
            } else if ArgScanner.debugLevel(plan.arguments) > 0 {
                Files.removeTree(directory)
                return .refused(
                    "no sshcc gcc plugin in \(options.gccPluginDirectory) loads into \(executable): a -g object "
                        + "compiled here from directives-only text would differ from a local one "
                        + "(install it with Scripts/build-gcc-plugin.sh)")
            }
        }
        return .ready(PreparedJob(arguments: arguments, directory: directory, plan: plan, executable: executable))
    }

    /// The job got ready ahead when its command line is this request's, else set up now.
    private mutating func ready(_ arguments: [String], _ prepared: PreparedJob?) -> SetUp {
        if let prepared, prepared.arguments == arguments { return .ready(prepared) }
        return setUp(arguments)
    }

    private enum Recall {
        case step(Step)
        /// Not in the cache: the job's key is claimed (`PreparedJob.claimed`) until its source comes.
        case missing
    }

    /// A question's answer from the object cache (version 7: the client sent its source's digest, not the
    /// source). While another channel or trusted account compiles the same job, it waits for that answer.
    private mutating func recall(_ job: PreparedJob, digest: [UInt8], number: Int, watch: StreamWatch?) -> Recall {
        guard let store = objectStore, let key = cacheKey(job, sourceDigest: digest) else { return .missing }
        switch store.claim(key, keepWaiting: waiter(number, watch)) {
        case .gaveUp: return .step(.abandoned)
        case .hit(let hit): return .step(recalled(hit, job, source: "asked-first"))
        case .compile(let inFlight):
            job.claimed = (key, inFlight)
            logger.info("job \(number): not in the object cache; its source is asked for")
            return .missing
        }
    }

    /// The job's answer from the object cache when it holds one, else compiled (and kept there when it
    /// succeeded). While another channel or trusted account compiles the same job, it waits for that answer.
    private mutating func compileOrRecall(_ request: Request, _ job: PreparedJob, number: Int, watch: StreamWatch?)
        -> Step
    {
        guard let store = objectStore,
            let key = cacheKey(job, sourceDigest: CacheKey.sourceDigest(request.source))
        else { return compile(request, job, number: number, watch: watch) }
        let claim: ObjectStore.Claim
        if let claimed = job.claimed, claimed.key == key {
            claim = .compile(claimed.inFlight)  // claimed when its digest was asked for
        } else {
            job.claimed = nil  // a source that is not the one asked for: its own key
            claim = store.claim(key, keepWaiting: waiter(number, watch))
        }
        switch claim {
        case .gaveUp: return .abandoned
        case .hit(let hit): return recalled(hit, job, source: "source=\(request.source.count)B")
        case .compile(let inFlight):
            lastTiming.cacheHit = false
            let step = compile(request, job, number: number, watch: watch)
            if case .done(let reply, _) = step, reply.status == 0, !mentions(reply, job.directory) {
                do {
                    try store.store(
                        key,
                        CachedReply(
                            status: reply.status, stdout: reply.stdout, stderr: reply.stderr, object: reply.object))
                } catch {
                    logger.warning("object cache: cannot keep job \(number)'s answer: \(error)")
                }
            }
            job.claimed = nil
            withExtendedLifetime(inFlight) {}
            return step
        }
    }

    /// Waits while the same job is compiled elsewhere (said once in the log); false once the client left.
    private func waiter(_ number: Int, _ watch: StreamWatch?) -> () -> Bool {
        var told = false
        return { [logger] in
            if !told { logger.info("job \(number): the same job is being compiled elsewhere; waiting for its answer") }
            told = true
            if let watch { watch.pause(milliseconds: 50) } else { CurrentProcess.sleep(milliseconds: 50) }
            return watch?.abandoned != true
        }
    }

    /// The reply kept in the object cache, as this job's.
    private mutating func recalled(_ hit: ObjectStore.Hit, _ job: PreparedJob, source: String) -> Step {
        lastTiming.cacheHit = true
        let reply = hit.reply
        let from = hit.owner == CurrentProcess.userID ? "" : " from=\(Environment.userName(of: hit.owner))"
        return .done(
            Reply(status: reply.status, stderr: reply.stderr, stdout: reply.stdout, object: reply.object),
            summary:
                "\(job.plan.compilerName) \(PathName.base(job.plan.inputPath)) \(source) "
                + "cache-hit\(from) status=\(Int32(bitPattern: reply.status)) object=\(reply.object.count)B")
    }

    /// Whether the reply's messages name the job's private directory (such a reply is not kept: another job's
    /// directory differs).
    private func mentions(_ reply: Reply, _ directory: String) -> Bool {
        [reply.stdout, reply.stderr].contains { ByteSearch.contains($0, Array(directory.utf8)) }
    }

    /// The job's cache key: this server's version and identity of its compiler, both steps' command lines (the
    /// plugin named by its file's fingerprint, so a rebuilt plugin is a new key), and the source's digest. Nil when the
    /// compiler cannot be identified.
    private mutating func cacheKey(_ job: PreparedJob, sourceDigest: [UInt8]) -> CacheKey? {
        guard let identity = identity(of: job.executable) else { return nil }
        let steps = [job.plan.arguments, job.plan.assembleArguments].map { arguments in
            [job.plan.compilerName]
                + arguments.map { argument in
                    guard argument.hasPrefix("-fplugin="), let stamp = Files.fingerprint(String(argument.dropFirst(9)))
                    else { return argument }
                    return argument + "@" + stamp.map { String($0) }.joined(separator: ".")
                }
        }
        return CacheKey.of(
            toolchain: identity.digest, steps: steps, jobDirectory: job.directory, sourceDigest: sourceDigest,
            rules: SSHCCVersion.string)
    }

    private func openObjectStore() -> ObjectStore? {
        guard let settings = options.objectCache else { return nil }
        switch ObjectStore.open(
            settings, entryLimit: limits.maxObjectLength + (4 << 20),
            damaged: { [logger] path, why in
                logger.warning("object cache: \(path) is damaged (\(why)); not used")
            })
        {
        case .success(let store): return store
        case .failure(let problem):
            logger.warning("object cache off: \(problem)")
            return nil
        }
    }

    private mutating func compile(_ request: Request, _ job: PreparedJob, number: Int, watch: StreamWatch?) -> Step {
        // The slot goes back once the compile is over, before the reply is written: a client that does not
        // read its reply must not keep a slot.
        defer { job.slot = nil }
        let plan = job.plan
        if let reason = SourcePolicy.refusal(request.source, clang: !plan.readsStandardInput) {
            return .refused(reason)
        }
        if options.sandbox, Sandbox.landlockABI == 0, number == 1 {
            logger.notice("this kernel has no Landlock: compilers run without the sandbox (Docs/security.md)")
        }
        do {
            if job.slot == nil {
                // Held until the compiler has exited (the slot is freed with the job).
                let acquired = JobSlots.acquire(options.slots, watch: watch) { [logger] reason in
                    logger.info("slot: job \(number) waits: \(reason)")
                }
                switch acquired {
                case .abandoned: return .abandoned
                case .terminating: return .refused("the server is shutting down; the job was not started")
                case .acquired(let held, let waited):
                    lastTiming.waited = waited
                    job.slot = held
                    JobSlots.announce(held, options.slots, file: PathName.source(in: request.arguments))
                    if waited > 0 { logger.info("slot: job \(number) waited \(waited) ms for a compile slot") }
                }
            }
            let compiler = CompilerRun(job, watch: watch, sandbox: sandboxReadable(job.executable, in: job.directory))
            let prestarted = job.compile != nil
            let compileStarted = Monotonic.nanoseconds()
            defer { lastTiming.compile = Monotonic.milliseconds(since: compileStarted) }
            let fileLimit = options.limits.fileSizeBytes > 0 ? options.limits.fileSizeBytes : .max
            var result: ProcessResult
            if plan.readsStandardInput {
                // gcc: the assembler (started now if `prepare` did not) waits for the checked assembly, which a
                // thread takes from the first step's FIFO and hands over as soon as cc1 has written it.
                if job.assemblyPipe == nil { job.assemblyPipe = try AssemblyPipe.make(at: plan.assemblyPath) }
                let assembler = try job.assemble ?? start(compiler, step(job, plan.assembleArguments), readsInput: true)
                let first = try job.compile ?? start(compiler, step(job, plan.arguments), readsInput: true)
                let feeder = AssemblyFeeder(
                    job.assemblyPipe.take()!, assembler: assembler, limit: fileLimit,
                    captureLimit: limits.maxMessageLength)
                (job.compile, job.assemble) = (nil, nil)
                let compiled = Result { try runCompiler(compiler, first, input: request.source) }
                // Also when the first step failed or was stopped: the thread must end.
                let assembly = feeder.finish(wanted: (try? compiled.get())?.status == 0, watch: watch)
                result = try compiled.get()
                if watch?.abandoned == true { return .abandoned }
                switch assembly {
                case .overLimit: return .refused(JobLimitReport.output(options.limits))
                case .refused(let reason) where result.status == 0: return .refused(reason)
                case .failed(let why) where result.status == 0: return .refused("job failed on the server: \(why)")
                case .assembled(let run) where result.status == 0: result.append(try checked(run))
                default: break  // the first step failed (its messages stand) or wrote no assembly
                }
            } else {
                // clang: both steps read files.
                try Files.create(plan.inputPath, request.source)
                result = try runCompiler(compiler, start(compiler, step(job, plan.arguments)))
                if result.status == 0, Files.exists(plan.assemblyPath) {
                    let assembly = try Files.read(plan.assemblyPath, limit: fileLimit)
                    if let reason = AssemblyPolicy.refusal(assembly) { return .refused(reason) }
                    result.append(
                        try runCompiler(compiler, start(compiler, step(job, plan.assembleArguments))))
                }
            }
            var object: [UInt8] = []
            if result.status == 0, Files.exists(plan.outputPath) {
                object = try Files.read(plan.outputPath, limit: limits.maxObjectLength)
            }
            let summary =
                "\(plan.compilerName) \(PathName.base(plan.inputPath)) source=\(request.source.count)B "
                + (prestarted ? "started-early " : "") + (job.directSteps == 2 ? "direct " : "")
                + "status=\(result.status) object=\(object.count)B"
            return .done(
                Reply(
                    status: UInt32(bitPattern: result.status), stderr: result.stderr, stdout: result.stdout,
                    object: object), summary: summary)
        } catch let stopped as Stopped {
            return stopped.step
        } catch {
            return .refused("job failed on the server: \(error)")
        }
    }

    /// A compiler run stopped by a limit or by the client's leaving: it ends the job with `step`.
    private struct Stopped: Error {
        var step: Step
    }

    /// What both compiler runs of a job share (the sandbox's paths are worked out once per job).
    private struct CompilerRun {
        var directory: String
        var sandbox: [String]?
        var watch: StreamWatch?

        init(_ job: PreparedJob, watch: StreamWatch?, sandbox: [String]?) {
            directory = job.directory
            self.sandbox = sandbox
            self.watch = watch
        }
    }

    /// A step of `job` with `arguments`: gcc's cc1 or `as` run directly when the driver's command line for
    /// these flags is known (DirectSteps), else the compiler's driver. Counted in the job's `directSteps`.
    private mutating func step(_ job: PreparedJob, _ arguments: [String]) -> StepCommand {
        let argv = [job.plan.compilerName] + arguments
        guard options.directSteps, job.plan.readsStandardInput else {
            return StepCommand(executable: job.executable, arguments: argv)
        }
        let runner = self  // the driver runs while the cache is being updated
        guard
            let command = directSteps.command(
                arguments: argv, directory: job.directory,
                stem: PathName.dropSuffix(PathName.base(job.plan.outputPath)), path: Environment.get("PATH"),
                printCommands: { runner.printCommands(job, $0) })
        else { return StepCommand(executable: job.executable, arguments: argv) }
        job.directSteps += 1
        return command
    }

    /// `driver -###` for a step, as limited and sandboxed as the step (and given 2 s: it only prints): its
    /// stderr, nil when it failed.
    private func printCommands(_ job: PreparedJob, _ argv: [String]) -> String? {
        let sandbox = sandboxReadable(job.executable, in: job.directory)
        return askCompiler(job.executable, argv, in: job.directory, sandbox: sandbox).map {
            String(decoding: $0.stderr, as: UTF8.self)
        }
    }

    /// A run of the compiler that only prints (`-###`, `-print-search-dirs`): limited like a step, sandboxed,
    /// given 2 s; its result, nil when it failed.
    private func askCompiler(_ executable: String, _ argv: [String], in directory: String, sandbox: [String]?)
        -> ProcessResult?
    {
        var limits = options.limits
        limits.wallSeconds = 2
        guard
            let run = try? Subprocess.runLimited(
                executable: executable, arguments: argv, environment: compilerEnvironment(directory),
                directory: directory, limits: limits, sandbox: sandbox, captureLimit: 1 << 20, watch: nil),
            run.end == .exited, run.process.status == 0, !run.overflowed
        else { return nil }
        return run.process
    }

    /// Starts one limited compiler run of the job.
    private func start(_ job: CompilerRun, _ command: StepCommand, readsInput: Bool = false) throws
        -> StartedProcess
    {
        try Subprocess.startLimited(
            executable: command.executable, arguments: command.arguments,
            environment: compilerEnvironment(job.directory),
            directory: job.directory, limits: options.limits,
            // A step the compiler's own `-###` named (cc1, as) may read its program file.
            sandbox: job.sandbox.map { $0 + [command.executable] },
            readsInput: readsInput)
    }

    /// Finishes a started compiler run, feeding it `input`; throws `Stopped` when a limit or the client's
    /// leaving stopped it.
    private func runCompiler(_ job: CompilerRun, _ started: StartedProcess, input: [UInt8] = []) throws
        -> ProcessResult
    {
        try checked(
            Subprocess.finish(started, input: input, captureLimit: self.limits.maxMessageLength, watch: job.watch))
    }

    /// A finished run's result, or `Stopped` when a limit or the client's leaving stopped it.
    private func checked(_ run: LimitedResult) throws -> ProcessResult {
        if let reason = JobLimitReport.reason(run, limits: options.limits) { throw Stopped(step: .refused(reason)) }
        if run.end == .abandoned { throw Stopped(step: .abandoned) }
        var process = run.process
        if run.overflowed {
            process.stderr += Array("sshccd: compiler messages cut at \(self.limits.maxMessageLength) bytes\n".utf8)
        }
        return process
    }

    /// Why `executable` may not compile for a client whose toolchain identity is `client` (`DIGEST SUMMARY`),
    /// or nil when it has the same; its own identity is computed at its first such job.
    private mutating func toolchainRefusal(_ client: String, _ compilerName: String, _ executable: String) -> String? {
        let mine = identity(of: executable)
        guard mine?.digest != String(ToolchainCheck.digest(client)) else { return nil }
        return ToolchainCheck.refusal(
            compiler: compilerName, server: mine?.summary ?? "a compiler sshccd cannot identify",
            client: "\(shown(ToolchainCheck.summary(client), limit: 80)) "
                + "(\(shown(ToolchainCheck.digest(client).prefix(12))) against \(mine?.digest.prefix(12) ?? "none"))")
    }

    /// The compiler's identity, once per process (nil: it cannot be identified).
    private mutating func identity(of executable: String) -> ToolchainIdentity? {
        if toolchains[executable] == nil { toolchains[executable] = .some(toolchainIdentity(executable)) }
        return toolchains[executable] ?? nil
    }

    /// The compiler's identity: kept from an earlier sshccd of this account (hashing a compiler reads some 100
    /// MB: every new channel's first job would pay it), or computed and kept.
    private func toolchainIdentity(_ executable: String) -> ToolchainIdentity? {
        guard let directory = options.cacheDirectory, (try? Files.makePrivateDirectory(directory)) != nil else {
            return ToolchainIdentity.compute(executable)
        }
        return ToolchainCache.identity(of: executable, muxDirectory: directory).identity
    }

    /// Whether `executable` compiles an empty file with `plugin` loaded (sandboxed as a job's compiler is).
    func pluginLoads(_ plugin: String, into executable: String, in directory: String) -> Bool {
        let probe = directory + "/plugin-probe.c"
        defer {
            Files.remove(probe)
            Files.remove(probe + ".s")
        }
        guard (try? Files.create(probe, [])) != nil else { return false }
        let argv = [executable, "-fplugin=" + plugin, ArgScanner.directivesOnlyOption, "-S", probe, "-o", probe + ".s"]
        return askCompiler(executable, argv, in: directory, sandbox: sandboxReadable(executable, in: directory)) != nil
    }

    /// What the sandboxed compiler may read: the system directories and its own installation
    /// (CompilerInstallation); nil when there is no sandbox.
    func sandboxReadable(_ executable: String, in directory: String) -> [String]? {
        guard options.sandbox, Sandbox.landlockABI > 0 else { return nil }
        let system =
            options.sandboxReadable + (Files.exists(options.gccPluginDirectory) ? [options.gccPluginDirectory] : [])
        return system
            + installations.readable(executable, system: system) { real, arguments in
                askCompiler(real, [real] + arguments, in: directory, sandbox: system + [real]).map {
                    String(decoding: $0.stdout, as: UTF8.self)
                }
            }
    }

    /// The compiler sees the server's PATH and locale and nothing else from sshd's environment (no
    /// GCC_EXEC_PREFIX, COMPILER_PATH, DEPENDENCIES_OUTPUT, LD_PRELOAD…); its temporary files go to the job.
    func compilerEnvironment(_ directory: String) -> [String] {
        var environment = ["TMPDIR=" + directory, "PATH=" + (Environment.get("PATH") ?? "/usr/bin:/bin")]
        for name in ["LANG", "LC_ALL", "LC_MESSAGES", "LC_CTYPE"] {
            if let value = Environment.get(name) { environment.append(name + "=" + value) }
        }
        return environment
    }
}

extension ProcessResult {
    /// The job's result after its next step: that step's status, both steps' output.
    fileprivate mutating func append(_ next: ProcessResult) {
        status = next.status
        stdout += next.stdout
        stderr += next.stderr
    }
}
