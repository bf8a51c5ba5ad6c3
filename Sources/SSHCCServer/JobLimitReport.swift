// Telling a job stopped by a server limit from a compile that failed on its own: the first goes back as a
// refusal (the client compiles locally, the build goes on), the second is the user's error to see.

import POSIXSupport

#if canImport(Glibc)
    import Glibc
#endif

enum JobLimitReport {
    /// Why the run was stopped by a limit, or nil when the compiler's own status stands.
    static func reason(_ run: LimitedResult, limits: ProcessLimits) -> String? {
        if run.end == .timedOut {
            return "the compile was stopped after \(limits.wallSeconds) s of wall-clock time (sshccd --max-wall)"
        }
        if limits.cpuSeconds > 0,
            run.cpuMilliseconds >= limits.cpuSeconds * 1000 || run.process.signal == SIGXCPU
                || mentions(run.process.stderr, "CPU time limit exceeded")
        {
            return "the compile was stopped after \(limits.cpuSeconds) s of CPU time (sshccd --max-cpu)"
        }
        if run.process.status != 0, run.process.signal == SIGXFSZ || mentions(run.process.stderr, "File size limit") {
            return "the compile's output went over \(limits.fileSizeBytes >> 20) MB (sshccd --max-output)"
        }
        if run.process.status != 0,
            mentions(run.process.stderr, "out of memory allocating")
                || mentions(run.process.stderr, "memory exhausted")
                || mentions(run.process.stderr, "std::bad_alloc")
        {
            return "the compile ran out of memory under the server's limit of \(limits.memoryBytes >> 20) MB "
                + "(sshccd --max-memory)"
        }
        return nil
    }

    static func mentions(_ bytes: [UInt8], _ text: String) -> Bool {
        String(decoding: bytes, as: UTF8.self).contains(text)
    }
}
