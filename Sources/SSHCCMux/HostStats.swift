// Counters one host driver keeps for `sshcc --status`. Written by the driver's thread, read by the
// status request's thread; both under the driver's inbox lock.

import CompileCore
import DistccWire
import MuxCore

struct HostStats: Sendable {
    enum State: String, Sendable {
        case connecting, up, down
        /// No connection, none needed yet: the next job connects.
        case disconnected
    }

    var state = State.connecting
    var connections = 0
    var channelsOpen = 0
    var channelsBusy = 0
    var jobsDone = 0
    /// Of the jobs done, those its server answered from its object cache.
    var cacheHits = 0
    /// Jobs that asked for their result by the source's digest first (protocol 7), and the questions the
    /// server answered by asking for the source.
    var askedFirst = 0
    var sourcesNeeded = 0
    var jobsFailed = 0
    /// Jobs its server refused for a reason of its own (configuration, a compiler it lacks): they went elsewhere.
    var jobsRefused = 0
    var jobNanoseconds: UInt64 = 0
    /// Bytes on the channels, and what they carried uncompressed.
    var bytesSent = 0
    var bytesReceived = 0
    var rawBytesSent = 0
    var rawBytesReceived = 0
    /// Source pieces that went ahead of their job's end (version 5).
    var piecesAhead = 0
    /// The distcc protocol version jobs go in (1 plain, 2 LZO, 4 zstd, 5 zstd with the source streamed, 6 and
    /// the server's load in each reply).
    var protocolVersion = DistccVersion.plain
    /// What the SSH key exchange agreed on (`,sshzlib`).
    var sshCompression = "none"
    var lastError: String?
    /// Monotonic nanoseconds at which a down host is probed again.
    var retryAt: UInt64?
    /// The server's latest load report (a reply's or the load question's answer).
    var load: ServerLoad?
    /// Why the server's load is not known (it cannot report it).
    var loadNote: String?

    mutating func add(_ traffic: JobTraffic) {
        bytesSent += traffic.sent
        bytesReceived += traffic.received
        rawBytesSent += traffic.rawSent
        rawBytesReceived += traffic.rawReceived
        piecesAhead += traffic.piecesAhead
        if traffic.askedFirst { askedFirst += 1 }
    }

    /// "zstd, protocol 6 (source streamed, 12 pieces ahead)".
    var compressionText: String {
        "\(protocolVersion.compression.rawValue), protocol \(protocolVersion)"
            + (protocolVersion.streamsSource ? " (source streamed, \(piecesAhead) pieces ahead)" : "")
    }

    var meanJobMilliseconds: Double? {
        jobsDone == 0 ? nil : Double(jobNanoseconds) / Double(jobsDone) / 1e6
    }
}
