// What a client can make sshccd write to its log: a refused argument holding newlines and terminal escapes
// is logged on one line, escaped and cut short, so no line can be forged; hundreds of refusals from one
// channel are bounded by the per-process line budget. The control: the raw argument does hold a fake log
// line and an escape sequence, and the reply to the client still says what was refused.

import Foundation
import POSIXSupport
import TestSupport
import Testing

@Suite struct LogForgeryTests {
    static let forged = "-fplugin=\n2026-01-01T00:00:00.000Z sshccd[1] info: job 1: ok 1ms\u{1b}]0;owned\u{07}"

    @Test func aRefusedArgumentCannotForgeALogLine() throws {
        let harness = try ServerHarness("sshccd-logs")
        let long = "-fplugin=" + String(repeating: "x", count: 3_000)
        let requests = try [Self.forged, long].map { try harness.request("a.c", "int x;\n", ["gcc", $0, "-c", "a.c"]) }
        let (result, replies) = try harness.serve(requests)
        #expect(result.status == 0)
        #expect(replies.count == 2 && replies.allSatisfy { $0.exitCode == 108 })
        let log = harness.log
        #expect(log.contains("refused"))
        #expect(!log.contains("\u{1b}") && !log.contains("\u{07}"), "an escape reached the log")
        for line in log.split(separator: "\n") {
            #expect(line.contains("sshccd["), "a line the server did not write: \(line)")
            #expect(line.utf8.count < 2_000, "a line of \(line.utf8.count) bytes")
        }
        #expect(
            !log.split(separator: "\n").contains { $0.hasPrefix("2026-01-01") }, "the forged line stands on its own")
        #expect(Self.forged.split(separator: "\n").last!.hasPrefix("2026-01-01"), "control: the argument holds a line")
    }

    @Test func oneChannelCannotFloodTheLog() throws {
        let harness = try ServerHarness("sshccd-flood")
        let requests = try (0..<600).map { index in
            try harness.request(
                "a.c", "int x;\n", ["gcc", "-fplugin=\(index)" + String(repeating: "y", count: 500), "-c", "a.c"])
        }
        let (result, replies) = try harness.serve(requests)
        #expect(result.status == 0 && replies.count == 600)
        let lines = harness.log.split(separator: "\n")
        #expect(lines.count < 400, "\(lines.count) lines for 600 refusals")
        #expect(harness.log.utf8.count < 600 * 300, "\(harness.log.utf8.count) bytes")
    }
}
