// Runs one compile job: a private directory, the preprocessed source written there, the allowed compiler
// run with the planned arguments, the object read back, the directory removed. Refusals become replies.

import CompileCore
import DistccWire
import Logging
import POSIXSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns requests into replies. One runner serves all jobs of one sshccd process.
public struct JobRunner {
    let options: ServerOptions
    let limits: WireLimits
    var logger: Logger
    public private(set) var jobsServed = 0
    /// Compiler paths found on PATH, per name: one sshccd serves many jobs on a channel.
    private var compilerPaths: [String: String] = [:]

    public init(options: ServerOptions, limits: WireLimits = .default, logger: Logger) {
        self.options = options
        self.limits = limits
        self.logger = logger
    }

    /// Refusals carry this exit status and an `sshccd: ` prefix in SERR, so sshcc can tell a refused job
    /// (fall back locally) from a failed compile (the user's error). Docs/protocol.md, "Refusals".
    public static func refusal(_ message: String) -> Reply {
        Reply(status: Reply.exitStatus(ExitCode.serverRefused.rawValue), stderr: Array("sshccd: \(message)\n".utf8))
    }

    public mutating func run(_ request: Request) -> Reply {
        jobsServed += 1
        let started = Monotonic.nanoseconds()
        let job = jobsServed
        let directory: String
        do {
            directory = try Files.makeTemporaryDirectory(in: options.temporaryDirectory, prefix: "sshccd-")
        } catch {
            logger.error("job \(job): cannot make a job directory: \(error)")
            return Self.refusal("cannot make a job directory on the server: \(error)")
        }
        defer { Files.removeTree(directory) }

        switch ServerArgPolicy.plan(request.arguments, allowList: options.allowList, jobDirectory: directory) {
        case .refuse(let reason):
            logger.warning("job \(job): refused: \(reason)")
            return Self.refusal(reason)
        case .compile(let plan):
            if let reason = SourcePolicy.refusal(request.source) {
                logger.warning("job \(job): refused: \(reason)")
                return Self.refusal(reason)
            }
            guard let executable = compilerPaths[plan.compilerName] ?? Environment.findExecutable(plan.compilerName)
            else {
                logger.warning("job \(job): compiler \(plan.compilerName) not installed")
                return Self.refusal("compiler '\(plan.compilerName)' is allowed but not installed on this server")
            }
            compilerPaths[plan.compilerName] = executable
            do {
                try Files.create(plan.inputPath, request.source)
                // Held until the compiler has exited (the slot is freed when `slot` goes).
                let (slot, waitedMs) = try JobSlots.acquire(options.slots)
                defer { withExtendedLifetime(slot) {} }
                if waitedMs > 0 { logger.info("slot: job \(job) waited \(waitedMs) ms for a compile slot") }
                let result = try Subprocess.run(
                    executable: executable, arguments: [plan.compilerName] + plan.arguments, directory: directory,
                    captureLimit: limits.maxMessageLength)
                var object: [UInt8] = []
                if result.status == 0, Files.exists(plan.outputPath) {
                    object = try Files.read(plan.outputPath, limit: limits.maxObjectLength)
                }
                logger.info(
                    "job \(job): \(plan.compilerName) \(PathName.base(plan.inputPath)) source=\(request.source.count)B status=\(result.status) object=\(object.count)B \(Monotonic.milliseconds(since: started))ms"
                )
                return Reply(
                    status: UInt32(bitPattern: result.status), stderr: result.stderr, stdout: result.stdout,
                    object: object)
            } catch {
                logger.error("job \(job): \(error)")
                return Self.refusal("job failed on the server: \(error)")
            }
        }
    }
}
