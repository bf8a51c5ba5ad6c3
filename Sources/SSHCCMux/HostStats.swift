// Counters one host driver keeps for `sshcc --status`. Written by the driver's thread, read by the
// status request's thread; both under the driver's inbox lock.

import CompileCore

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
    /// Bytes on the channels, and what they carried uncompressed.
    var bytesSent = 0
    var bytesReceived = 0
    var rawBytesSent = 0
    var rawBytesReceived = 0
    var compression = BodyCompression.plain
    /// What the SSH key exchange agreed on (`,sshzlib`).
    var sshCompression = "none"
    var lastError: String?
    /// Monotonic nanoseconds at which a down host is probed again.
    var retryAt: UInt64?

    mutating func add(_ traffic: JobTraffic) {
        bytesSent += traffic.sent
        bytesReceived += traffic.received
        rawBytesSent += traffic.rawSent
        rawBytesReceived += traffic.rawReceived
    }

    var meanJobMilliseconds: Double? {
        jobsDone == 0 ? nil : Double(jobNanoseconds) / Double(jobsDone) / 1e6
    }
}
