// sshccd's request loop in this process, on pipes (no sshd, no sshccd process): jobs back to back in their
// own protocol versions, a clean end, garbage as a protocol error with no reply, and the signal pipe that
// ends an idle loop.

import CompileCore
import DistccWire
import FileLogging
import Foundation
import Logging
import POSIXSupport
import SSHCCServer
import TestSupport
import Testing

@Suite struct RequestLoopInProcessTests {
    /// The loop on its own thread, as sshccd's main runs it.
    final class Loop: @unchecked Sendable {
        /// Our ends: the requests' write end (nil once `endInput` closed it), the replies' read end, and the
        /// signal pipe (both of its ends: the loop polls the read end by number while we hold it).
        var requests: FileDescriptor?
        let replies: FileDescriptor
        let signal: PipeEnds
        private let ended = OneShot<LoopEnd>()

        init(_ harness: ServerHarness) throws {
            guard case .run(let options) = try ServerOptions.parse(harness.baseOptions) else {
                throw TestSupportError("options")
            }
            // Close-on-exec: no other test's child holds an end.
            let toServer = try FileDescriptorIO.pipe()
            let fromServer = try FileDescriptorIO.pipe()
            signal = try FileDescriptorIO.pipe()
            let signals = SignalPipe(standIn: signal.read)
            requests = .some(toServer.write)
            replies = fromServer.read
            let logPath = harness.logPath
            let streams = OwnedHandover(toServer.read)
            let output = OwnedHandover(fromServer.write)
            Threads.spawn { [ended] in
                let logger = Logger(label: "sshccd") { FileLogHandler(label: $0, path: logPath) }
                var runner = JobRunner(options: options, logger: logger)
                let end = RequestLoop.serve(
                    input: streams.take(), output: output.take(), runner: &runner, logger: logger, signals: signals)
                ended.fulfil(end)
            }
        }

        func send(_ bytes: [UInt8]) throws { try FileDescriptorIO.writeAll(requests!, bytes) }
        func endInput() { requests = nil }
        func ringSignal() throws { try FileDescriptorIO.writeAll(signal.write, [1]) }
        /// Everything the loop wrote, once it ended, and how it ended.
        func finish() throws -> ([UInt8], LoopEnd) {
            var output: [UInt8] = []
            while true {
                let chunk = try FileDescriptorIO.read(replies)
                if chunk.isEmpty { break }
                output += chunk
            }
            return (output, ended.wait())
        }
    }

    @Test func jobsBackToBackEachInItsVersionThenACleanEnd() throws {
        let harness = try ServerHarness("loop-jobs")
        var request = try harness.request(
            "a.c", "int twice(int x) { return 2 * x; }\n", ["gcc", "-c", "a.c", "-o", "a.o"])
        let loop = try Loop(harness)
        for version in [DistccVersion.plain, DistccVersion.lzo, DistccVersion.zstd] {
            request.version = version
            try loop.send(WireEncoder.encode(request))
        }
        loop.endInput()
        let (output, end) = try loop.finish()
        let replies = try ServerHarness.replies(Data(output))
        #expect(end == .finished)
        #expect(replies.map(\.version) == [DistccVersion.plain, DistccVersion.lzo, DistccVersion.zstd])
        #expect(replies.allSatisfy { $0.exitCode == 0 && !$0.object.isEmpty })
        #expect(Set(replies.map(\.object)).count == 1, "the same object in every version")
    }

    @Test func garbageIsAProtocolErrorWithNoReply() throws {
        let loop = try Loop(try ServerHarness("loop-garbage"))
        try loop.send(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        let (output, end) = try loop.finish()
        #expect(end == .protocolError && output.isEmpty)
    }

    /// SIGTERM's byte on the signal pipe ends an idle loop at once, with nothing lost.
    @Test func theSignalPipeEndsAnIdleLoop() throws {
        let loop = try Loop(try ServerHarness("loop-term"))
        try loop.ringSignal()
        let (output, end) = try loop.finish()
        #expect(end == .terminated && output.isEmpty)
    }

    @Test func aRequestCutShortIsATruncatedEnd() throws {
        let harness = try ServerHarness("loop-truncated")
        let request = try harness.request("b.c", "int y;\n", ["gcc", "-c", "b.c", "-o", "b.o"])
        let loop = try Loop(harness)
        let bytes = WireEncoder.encode(request)
        try loop.send(Array(bytes.prefix(bytes.count - 3)))
        loop.endInput()
        let (output, end) = try loop.finish()
        #expect(end == .truncated && output.isEmpty)
    }
}
