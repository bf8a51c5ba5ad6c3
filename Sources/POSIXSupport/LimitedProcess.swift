// Running an untrusted job's compiler: resource limits set in the child before exec, its own process group
// (gcc, cc1 and as are killed together), a wall-clock deadline, and the client watched so that a job whose
// client has gone is killed instead of finished.

import CJobSandbox
import CPOSIX

#if canImport(Glibc)
    import Glibc
#endif

/// Per-job limits; 0 switches one off.
public struct ProcessLimits: Equatable, Sendable {
    /// CPU seconds, per process of the job (RLIMIT_CPU) and in total (checked when it ends).
    public var cpuSeconds: Int
    /// Address space per process, bytes (RLIMIT_AS).
    public var memoryBytes: Int
    /// Largest file the job may write, bytes (RLIMIT_FSIZE).
    public var fileSizeBytes: Int
    /// Wall-clock seconds before the whole job is killed.
    public var wallSeconds: Int

    public init(cpuSeconds: Int, memoryBytes: Int, fileSizeBytes: Int, wallSeconds: Int) {
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.fileSizeBytes = fileSizeBytes
        self.wallSeconds = wallSeconds
    }
}

/// How a limited run ended.
public enum LimitedEnd: Equatable, Sendable {
    case exited
    /// Killed at the wall-clock deadline.
    case timedOut
    /// Killed because the watched client closed its stream.
    case abandoned
}

public struct LimitedResult: Sendable {
    public var end: LimitedEnd
    public var process: ProcessResult
    /// User + system CPU of the process and its waited-for children.
    public var cpuMilliseconds: Int
    /// A captured stream went over the capture limit and was cut.
    public var overflowed: Bool
    /// What the relay into its stdin did (`finish(_:relaying:…)` only).
    public var relayed: Relayed?
}

/// A child's stdin fed from `source` as it is read, through `screen`: given the bytes just read (and true
/// once the source has ended, with none), it returns those that may go on now, or nil to refuse the rest.
/// The caller keeps `source` open until the run is finished.
public struct InputRelay {
    /// The source's number, borrowed from its owner.
    let source: Int32
    /// Bytes read from the source, at most.
    public let limit: Int
    public let screen: ([UInt8], Bool) -> [UInt8]?

    public init(source: borrowing FileDescriptor, limit: Int, screen: @escaping ([UInt8], Bool) -> [UInt8]?) {
        (self.source, self.limit, self.screen) = (source.number, limit, screen)
    }
}

/// What a relay did.
public struct Relayed: Equatable, Sendable {
    /// Bytes read from the source.
    public var bytes = 0
    /// The source had more than the limit: reading stopped there.
    public var overLimit = false
    /// The screen refused: the child got nothing more, the rest of the source was read and dropped.
    public var stopped = false
}

/// A limited process that has been started and is finished later (`Subprocess.finish`): it may wait for its
/// input on stdin meanwhile, as sshccd's assembler waits for checked assembly while the compiler runs.
public final class StartedProcess {
    let pid: pid_t
    let executable: String
    /// The read ends of its stdout and stderr, until `finish` has reaped it.
    var output: FileDescriptor?
    var errors: FileDescriptor?
    /// The write end of its stdin, when it reads input from us.
    var input: FileDescriptor?
    let limits: ProcessLimits

    init(
        pid: pid_t, executable: String, output: consuming FileDescriptor, errors: consuming FileDescriptor,
        input: consuming FileDescriptor?, limits: ProcessLimits
    ) {
        (self.pid, self.executable, self.limits) = (pid, executable, limits)
        self.output = consume output
        self.errors = consume errors
        self.input = consume input
    }

    /// Kills and reaps it unless `Subprocess.finish` did (its descriptors close with it).
    deinit {
        if output != nil { _ = try? Subprocess.reapGroup(pid, killing: true) }
    }
}

extension Subprocess {
    /// Runs `arguments` (argv[0] first) under `limits`, capturing stdout and stderr up to `captureLimit`
    /// bytes each, with exactly `environment` (`KEY=value`). With `sandbox` (paths it may read and execute),
    /// the job can touch nothing else but `directory` (Landlock; the caller checks `Sandbox.landlockABI`).
    public static func runLimited(
        executable: String, arguments: [String], environment: [String], directory: String, limits: ProcessLimits,
        sandbox: [String]? = nil, captureLimit: Int, watch: (any PollWatch)?
    ) throws(SystemError) -> LimitedResult {
        let started = try startLimited(
            executable: executable, arguments: arguments, environment: environment, directory: directory,
            limits: limits, sandbox: sandbox, readsInput: false)
        return try finish(started, input: [], captureLimit: captureLimit, watch: watch)
    }

    /// Starts a limited run (see `runLimited`) and returns at once; with `readsInput` its stdin is a pipe that
    /// `finish` fills, else /dev/null. The caller ignores SIGPIPE (as every sshcc executable does): a process
    /// that stops reading must be an EPIPE, not the caller's end.
    public static func startLimited(
        executable: String, arguments: [String], environment: [String], directory: String, limits: ProcessLimits,
        sandbox: [String]? = nil, readsInput: Bool
    ) throws(SystemError) -> StartedProcess {
        let output = try FileDescriptorIO.pipe()
        let errors = try FileDescriptorIO.pipe()
        var inRead: FileDescriptor?, inWrite: FileDescriptor?
        if readsInput {
            let ends = try FileDescriptorIO.pipe()
            // Written with poll(): a process that stops reading must not block us.
            ends.write.setBlocking(false)
            inRead = .some(ends.read)
            inWrite = .some(ends.write)
        }
        var cLimits = sshcc_limits(
            cpu_seconds: Int64(limits.cpuSeconds), address_space: Int64(limits.memoryBytes),
            file_size: Int64(limits.fileSizeBytes))
        var pid = pid_t()
        let (stdin, stdout, stderr) = (inRead?.number ?? -1, output.write.number, errors.write.number)
        let spawnError = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                withCStrings(sandbox ?? []) { readable in
                    sshcc_spawn_limited(
                        &pid, executable, argv, envp, directory, stdin, stdout, stderr, &cLimits,
                        sandbox == nil ? nil : readable)
                }
            }
        }
        guard spawnError == 0 else { throw SystemError("run", path: executable, errno: .init(rawValue: spawnError)) }
        // The child's ends close here; ours are handed over.
        return StartedProcess(
            pid: pid, executable: executable, output: output.read, errors: errors.read, input: inWrite.take(),
            limits: limits)
    }

    /// Gives a started run its `input` (then end of file), reads its output and waits for it: the wall-clock
    /// limit counts from here. A process that exits without reading all of its input is not an error.
    public static func finish(_ run: StartedProcess, input: [UInt8], captureLimit: Int, watch: (any PollWatch)?)
        throws(SystemError) -> LimitedResult
    {
        try finish(run, input: input, relay: nil, captureLimit: captureLimit, watch: watch)
    }

    /// Like `finish(_:input:…)`, with the run's stdin fed from `relay` while the source is read: the child
    /// works on the first checked bytes while the rest are still being written. The caller owns the source.
    public static func finish(
        _ run: StartedProcess, relaying relay: InputRelay, captureLimit: Int, watch: (any PollWatch)?
    ) throws(SystemError) -> LimitedResult {
        try finish(run, input: [], relay: relay, captureLimit: captureLimit, watch: watch)
    }

    private static func finish(
        _ run: StartedProcess, input: [UInt8], relay: InputRelay?, captureLimit: Int, watch: (any PollWatch)?
    ) throws(SystemError) -> LimitedResult {
        let limits = run.limits
        let deadline =
            limits.wallSeconds > 0 ? Monotonic.nanoseconds() + UInt64(limits.wallSeconds) * 1_000_000_000 : nil
        // The drain closes the child's stdin once everything is written.
        var feed: Feed?
        if let stdin = run.input.take() { feed = Feed(input: stdin, bytes: input, relay: relay) }
        let drained: Drained
        do {
            drained = try drain(
                [run.output?.number, run.errors?.number], limit: captureLimit, deadline: deadline, watch: watch,
                feeding: feed.take())
        } catch {
            _ = try? reapGroup(run.pid, killing: true)
            run.output = nil
            run.errors = nil
            throw error
        }
        let (status, usage) = try reapGroup(run.pid, killing: drained.end != .exited)
        run.output = nil
        run.errors = nil
        let cpu =
            (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 1000
            + (Int(usage.ru_utime.tv_usec) + Int(usage.ru_stime.tv_usec)) / 1000
        return LimitedResult(
            end: drained.end,
            process: ProcessResult(status: status, stdout: drained.captured[0], stderr: drained.captured[1]),
            cpuMilliseconds: cpu, overflowed: drained.overflowed, relayed: drained.relayed)
    }

    /// Waits for the job's leader (killing its group first when `killing`), then kills whatever is left of
    /// the group: none of the compiler's children may outlive the job (they could still be writing into a
    /// directory about to be removed). The group is killed while its leader is an unreaped zombie, so the
    /// number cannot have been reused by then. Returns the wait status and the usage of the leader and its
    /// waited-for children.
    static func reapGroup(_ pid: pid_t, killing: Bool) throws(SystemError) -> (status: Int32, usage: rusage) {
        if killing { kill(-pid, SIGKILL) }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 {
            guard errno == EINTR else { throw SystemError("waitid") }
        }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw SystemError("wait4") }
        }
        return (status, usage)
    }
}

/// Landlock, the kernel's unprivileged file-system sandbox.
public enum Sandbox {
    /// The kernel's Landlock ABI version; 0 when the kernel has none.
    public static let landlockABI = Int(sshcc_landlock_abi())
}
