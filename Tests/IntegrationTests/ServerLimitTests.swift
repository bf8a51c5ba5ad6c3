// Limits and hostile input on stdin: sshccd driven directly. A job over a limit is stopped, reported
// to the client as a refusal naming the option (so it compiles locally), no process of it outlives it and
// its files are gone; oversized or broken streams end with a logged error; a crashed sshccd's job directory
// is swept by the next one; the job directory is private.

import DistccWire
import Foundation
import TestSupport
import Testing

@Suite struct ServerLimitTests {
    static let source = "int value(int x) { return x * 3; }\n"

    @Test func jobOverTheWallClockLimitIsStoppedWithItsChildren() throws {
        let harness = try ServerHarness("sshccd-wall")
        // A compile that never ends, with a child in the background: the whole group must die with the job.
        try harness.instrument("gcc", "sleep 600 &\necho $! > \(harness.directory.path)/child.pid\nwait")
        let request = try harness.request("a.c", Self.source, ["gcc", "-c", "a.c"])
        let (result, replies) = try harness.serve([request], options: ["--max-wall", "1"])
        #expect(result.status == 0)
        #expect(replies.first?.exitCode == 108)
        let message = String(decoding: replies.first?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("wall-clock") && message.contains("--max-wall"), "\(message)")
        let child = try #require(
            pid_t(
                String(decoding: try harness.directory.read("child.pid"), as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        #expect(eventually { processGone(child) })
        #expect(harness.leftovers.isEmpty)
    }

    /// A real g++ spinning in constexpr evaluation is stopped by RLIMIT_CPU.
    @Test func jobOverTheCPULimitIsStopped() throws {
        let harness = try ServerHarness("sshccd-cpu")
        let request = try harness.request(
            "spin.cc",
            "constexpr long spin(long n) { long s = 0; for (long i = 0; i < n; i++) s += i % 7; return s; }\n"
                + "constexpr long value = spin(40000000000L);\n",
            [
                "g++", "-fconstexpr-loop-limit=2147483647", "-fconstexpr-ops-limit=4611686018427387904", "-c",
                "spin.cc",
            ])
        let (_, replies) = try harness.serve([request], options: ["--max-cpu", "1"])
        #expect(replies.first?.exitCode == 108)
        let message = String(decoding: replies.first?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("CPU time") && message.contains("--max-cpu"), "\(message)")
        #expect(harness.leftovers.isEmpty)
    }

    @Test func jobOverTheMemoryLimitIsReported() throws {
        let harness = try ServerHarness("sshccd-memory")
        let request = try harness.request(
            "m.cc", "#include <map>\n#include <vector>\nstd::map<int, std::vector<int>> m;\n",
            ["g++", "-O2", "-c", "m.cc"])
        let (_, replies) = try harness.serve([request], options: ["--max-memory", "64"])
        #expect(replies.first?.exitCode == 108)
        let message = String(decoding: replies.first?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("memory") && message.contains("--max-memory"), "\(message)")
        #expect(harness.leftovers.isEmpty)
        // The same job under the default limit compiles.
        let (_, fine) = try harness.serve([request])
        #expect(fine.first?.exitCode == 0 && fine.first?.object.isEmpty == false)
    }

    @Test func outputOverTheLimitIsStopped() throws {
        let harness = try ServerHarness("sshccd-output-limit")
        // 400,000 distinct ints: several MB of assembly, over a 1 MB limit.
        let request = try harness.request(
            "big.c",
            "#define R(i) i, i+1, i+2, i+3\nint big[400000] = {\n"
                + (0..<100_000).map { "R(\($0 * 4))" }.joined(separator: ",\n") + "};\n", ["gcc", "-c", "big.c"])
        let (_, replies) = try harness.serve([request], options: ["--max-output", "1"])
        #expect(replies.first?.exitCode == 108)
        let message = String(decoding: replies.first?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("--max-output"), "\(message)")
        #expect(harness.leftovers.isEmpty)
    }

    /// Requests over the announced-size limits are protocol errors: logged, a clean exit, nothing compiled.
    @Test(arguments: [
        (["--max-source", "1"], "preprocessed source length (DOTI)"), (["--max-args", "3"], "argument count (ARGC)"),
        (["--max-arg-length", "256"], "length of argument 2 (ARGV)"),
    ])
    func oversizedRequestIsRefusedAsAProtocolError(_ options: [String], _ what: String) throws {
        let harness = try ServerHarness("sshccd-oversized")
        try harness.instrument("gcc")
        let request = Request(
            arguments: ["gcc", "-D" + String(repeating: "X", count: 300), "-O2", "-c", "a.c"],
            source: Array(repeating: UInt8(ascii: " "), count: 2 << 20))
        let (result, replies) = try harness.serve([request], options: options)
        #expect(result.status == 109)
        #expect(replies.isEmpty)
        #expect(harness.log.contains("protocol error: \(what)"), "\(harness.log)")
        #expect(harness.instrumentRuns.isEmpty)
        #expect(harness.leftovers.isEmpty)
    }

    /// Garbage at any point of a request: a logged protocol error, exit 109, no crash, nothing left.
    @Test(arguments: [
        "DIST00000001ARGC0000000zARGV", "DIST00000001ARGC00000002ARGV00000003gccXXXX", "DIST000000ff",
        "DIST00000001ARGC00000000", "\u{0}\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\u{9}\u{a}\u{b}",
    ])
    func garbageIsALoggedProtocolError(_ input: String) throws {
        let harness = try ServerHarness("sshccd-garbage")
        let result = try harness.serve(Array(input.utf8))
        #expect(result.status == 109)
        #expect(result.stdout.isEmpty)
        #expect(harness.log.contains("protocol error"))
        #expect(harness.leftovers.isEmpty)
    }

    @Test func staleJobDirectoriesOfDeadServersAreSwept() throws {
        let harness = try ServerHarness("sshccd-sweep")
        // A PID that is not running (above the kernel's pid_max default) and this test's own, which is.
        let dead = harness.jobs + "/sshccd-4194303-abcdef"
        let alive = harness.jobs + "/sshccd-\(getpid())-abcdef"
        let foreign = harness.jobs + "/other-4194303"
        for path in [dead, alive, foreign] {
            try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: true)
        }
        _ = try harness.serve([UInt8]())
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: alive))
        #expect(FileManager.default.fileExists(atPath: foreign))
        #expect(harness.log.contains("removed 1 job directories"))
    }

    @Test func jobDirectoryIsPrivate() throws {
        let harness = try ServerHarness("sshccd-private")
        try harness.instrument("gcc")
        let request = try harness.request("a.c", Self.source, ["gcc", "-c", "a.c"])
        let (_, replies) = try harness.serve([request])
        #expect(replies.first?.exitCode == 0, "\(String(decoding: replies.first?.stderr ?? [], as: UTF8.self))")
        #expect(harness.instrumentRuns.count == 2)
        #expect(harness.instrumentRuns.allSatisfy { $0.hasSuffix(" 700") }, "\(harness.instrumentRuns)")
    }
}
