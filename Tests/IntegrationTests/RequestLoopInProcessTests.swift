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
        /// Our write end is -1 once `endInput` closed it: a descriptor closed twice may by then be another
        /// test thread's.
        var toServer: [Int32]
        let fromServer: [Int32]
        let term: [Int32]
        private let ended = OneShot<LoopEnd>()

        init(_ harness: ServerHarness) throws {
            guard case .run(let options) = try ServerOptions.parse(harness.baseOptions) else {
                throw TestSupportError("options")
            }
            var pipes: [[Int32]] = []
            for _ in 0..<3 {
                let pair = try FileDescriptorIO.pipe()  // close-on-exec: no other test's child holds an end
                pipes.append([pair.read, pair.write])
            }
            (toServer, fromServer, term) = (pipes[0], pipes[1], pipes[2])
            let logPath = harness.logPath
            let (input, output, termFD) = (toServer[0], fromServer[1], term[0])
            Threads.spawn { [ended] in
                let logger = Logger(label: "sshccd") { FileLogHandler(label: $0, path: logPath) }
                var runner = JobRunner(options: options, logger: logger)
                let end = RequestLoop.serve(
                    input: input, output: output, runner: &runner, logger: logger, termFD: termFD)
                close(output)
                ended.fulfil(end)
            }
        }

        func send(_ bytes: [UInt8]) throws { try FileDescriptorIO.writeAll(toServer[1], bytes) }
        func endInput() {
            close(toServer[1])
            toServer[1] = -1
        }
        /// Everything the loop wrote, once it ended, and how it ended.
        func finish() throws -> ([UInt8], LoopEnd) {
            var output: [UInt8] = []
            while true {
                let chunk = try FileDescriptorIO.read(fromServer[0])
                if chunk.isEmpty { break }
                output += chunk
            }
            return (output, ended.wait())
        }

        deinit {
            for fd in [toServer[0], toServer[1], fromServer[0], term[0], term[1]] where fd >= 0 { close(fd) }
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
        var byte: UInt8 = 1
        _ = write(loop.term[1], &byte, 1)
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
