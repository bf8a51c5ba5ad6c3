// Counters one host driver keeps for `sshcc --status`. Written by the driver's thread, read by the
// status request's thread; both under the driver's inbox lock.

struct HostStats: Sendable {
    enum State: String, Sendable {
        case connecting, up, down
    }

    var state = State.connecting
    var connections = 0
    var channelsOpen = 0
    var channelsBusy = 0
    var jobsDone = 0
    var jobsFailed = 0
    var jobNanoseconds: UInt64 = 0
    var bytesSent = 0
    var bytesReceived = 0
    var lastError: String?
    /// Monotonic nanoseconds at which a down host is probed again.
    var retryAt: UInt64?

    var meanJobMilliseconds: Double? {
        jobsDone == 0 ? nil : Double(jobNanoseconds) / Double(jobsDone) / 1e6
    }
}
