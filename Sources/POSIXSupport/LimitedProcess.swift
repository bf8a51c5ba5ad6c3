// Running an untrusted job's compiler: resource limits set in the child before exec, its own process group
// (gcc, cc1 and as are killed together), a wall-clock deadline, and the client watched so that a job whose
// client has gone is killed instead of finished.

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
}

extension Subprocess {
    /// Runs `arguments` (argv[0] first) under `limits`, capturing stdout and stderr up to `captureLimit`
    /// bytes each, with exactly `environment` (`KEY=value`). With `sandbox` (paths it may read and execute),
    /// the job can touch nothing else but `directory` (Landlock; the caller checks `Sandbox.available`).
    public static func runLimited(
        executable: String, arguments: [String], environment: [String], directory: String, limits: ProcessLimits,
        sandbox: [String]? = nil, captureLimit: Int, watch: StreamWatch?
    ) throws(SystemError) -> LimitedResult {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        defer { for fd in outPipe + errPipe where fd >= 0 { close(fd) } }
        try SystemError.check("pipe") { sshcc_pipe_cloexec(&outPipe) }
        try SystemError.check("pipe") { sshcc_pipe_cloexec(&errPipe) }

        var cLimits = sshcc_limits(
            cpu_seconds: Int64(limits.cpuSeconds), address_space: Int64(limits.memoryBytes),
            file_size: Int64(limits.fileSizeBytes))
        var pid = pid_t()
        let spawnError = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                withCStrings(sandbox ?? []) { readable in
                    readable.withUnsafeBufferPointer { paths in
                        directory.withCString { job in
                            var cSandbox = sshcc_sandbox(
                                enabled: sandbox == nil ? 0 : 1,
                                read_paths: UnsafeRawPointer(paths.baseAddress!).assumingMemoryBound(
                                    to: UnsafePointer<CChar>?.self), read_count: Int32(readable.count - 1),
                                job_dir: job)
                            return sshcc_spawn_limited(
                                &pid, executable, argv, envp, directory, outPipe[1], errPipe[1], &cLimits, &cSandbox)
                        }
                    }
                }
            }
        }
        guard spawnError == 0 else { throw SystemError("run", path: executable, errno: .init(rawValue: spawnError)) }
        close(outPipe[1])
        close(errPipe[1])
        outPipe[1] = -1
        errPipe[1] = -1

        let deadline =
            limits.wallSeconds > 0 ? Monotonic.nanoseconds() + UInt64(limits.wallSeconds) * 1_000_000_000 : nil
        var captured: [[UInt8]] = [[], []]
        var overflowed = false
        var end = LimitedEnd.exited
        var polls = [outPipe[0], errPipe[0]].map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while polls[0].fd >= 0 || polls[1].fd >= 0 {
            var entries = polls + (watch?.pollEntries ?? [])
            var timeout: Int32 = -1
            if let deadline {
                let now = Monotonic.nanoseconds()
                guard now < deadline else {
                    end = .timedOut
                    break
                }
                timeout = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            }
            let ready = poll(&entries, nfds_t(entries.count), timeout)
            if ready < 0 {
                guard errno == EINTR else { break }
                continue
            }
            watch?.service(entries[2...])
            if watch?.closed == true {  // SIGTERM is left for after the job: it is finished, not killed
                end = .abandoned
                break
            }
            for index in 0..<2 where entries[index].fd >= 0 && entries[index].revents != 0 {
                let chunk = (try? FileDescriptorIO.read(entries[index].fd)) ?? []
                if chunk.isEmpty {
                    polls[index].fd = -1
                } else if captured[index].count < captureLimit {
                    captured[index] += chunk.prefix(captureLimit - captured[index].count)
                    overflowed = overflowed || captured[index].count == captureLimit
                } else {
                    overflowed = true
                }
            }
        }
        if end != .exited { kill(-pid, SIGKILL) }
        // The compiler's children are in its process group; none may outlive the job (they could still be
        // writing into a directory that is about to be removed). The group is killed while its leader is an
        // unreaped zombie, so the number cannot have been reused by then.
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
        let cpu =
            (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 1000
            + (Int(usage.ru_utime.tv_usec) + Int(usage.ru_stime.tv_usec)) / 1000
        return LimitedResult(
            end: end, process: ProcessResult(status: status, stdout: captured[0], stderr: captured[1]),
            cpuMilliseconds: cpu, overflowed: overflowed)
    }
}

/// Landlock, the kernel's unprivileged file-system sandbox.
public enum Sandbox {
    /// The kernel's Landlock ABI version; 0 when the kernel has none.
    public static let landlockABI = Int(sshcc_landlock_abi())
}
