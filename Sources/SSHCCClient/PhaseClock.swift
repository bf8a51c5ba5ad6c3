// Per-phase timings of a remote job, printed with SSHCC_VERBOSE=2, for seeing where a job's time goes.

import POSIXSupport

/// Prints how long each phase of a remote job took (SSHCC_VERBOSE=2).
struct PhaseClock {
    let enabled: Bool
    private var last = Monotonic.nanoseconds()

    init(enabled: Bool) { self.enabled = enabled }

    mutating func lap(_ phase: String) {
        guard enabled else { return }
        let now = Monotonic.nanoseconds()
        let micros = (now - last) / 1000
        Console.error("sshcc: \(phase): \(micros / 1000).\(String(micros % 1000 / 100)) ms\n")
        last = now
    }
}
