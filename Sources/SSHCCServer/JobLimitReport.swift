// Telling a job stopped by a server limit from a compile that failed on its own: the first goes back as a
// refusal (the client compiles locally, the build goes on), the second is the user's error to see.

import POSIXSupport

enum JobLimitReport {
    /// Why the run was stopped by a limit, or nil when the compiler's own status stands.
    static func reason(_ run: LimitedResult, limits: ProcessLimits) -> String? {
        if run.end == .timedOut {
            return "the compile was stopped after \(limits.wallSeconds) s of wall-clock time (sshccd --max-wall)"
        }
        let process = run.process
        if limits.cpuSeconds > 0, run.cpuMilliseconds >= limits.cpuSeconds * 1000 {
            return cpu(limits)
        }
        guard process.status != 0 else { return nil }
        // The compiler's driver reports what killed cc1 or as; read its messages once.
        let messages = String(decoding: process.stderr, as: UTF8.self)
        if limits.cpuSeconds > 0, process.endedByCPULimit || messages.contains("CPU time limit exceeded") {
            return cpu(limits)
        }
        if process.endedByFileSizeLimit || messages.contains("File size limit") { return output(limits) }
        if ["out of memory allocating", "memory exhausted", "std::bad_alloc"].contains(where: messages.contains) {
            return "the compile ran out of memory under the server's limit of \(limits.memoryBytes >> 20) MB "
                + "(sshccd --max-memory)"
        }
        return nil
    }

    static func output(_ limits: ProcessLimits) -> String {
        "the compile's output went over \(limits.fileSizeBytes >> 20) MB (sshccd --max-output)"
    }

    static func cpu(_ limits: ProcessLimits) -> String {
        "the compile was stopped after \(limits.cpuSeconds) s of CPU time (sshccd --max-cpu)"
    }
}
