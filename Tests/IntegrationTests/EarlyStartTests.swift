// The command line goes ahead of the source, through a real sshd: sshccd starts gcc while the client is
// still preprocessing, and a job whose preprocessing fails is cancelled cleanly on every side.

import Foundation
import TestSupport
import Testing

@Suite struct EarlyStartTests {
    /// A client whose preprocessing lasts until the test lets it end; each preprocessor takes the gate.
    func gatedPreprocessor(_ project: TemporaryDirectory) throws -> String {
        try Fixtures.gatedPreprocessor(project, takesGate: true)
    }

    /// Opens the gate once sshccd has logged `count` jobs ready ahead of their source (false if it never did).
    func openGate(_ project: TemporaryDirectory, when server: SSHDServer, count: Int) -> Background<Bool> {
        let (gate, log) = (project.path + "/gate", server.sshccdLog)
        return Background {
            let ready = eventually(within: 60) {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                return text.components(separatedBy: "ready ahead of its source, gcc started").count - 1 >= count
            }
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            return ready
        }
    }

    func environment(_ server: SSHDServer, _ bin: String) -> [String: String] {
        var environment = server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_VERBOSE": "1"])
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        return environment
    }

    @Test func theServerGetsGccReadyWhileTheClientPreprocesses() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = environment(server, try gatedPreprocessor(project))
        for (index, flags) in [["-O2"], ["-g", "-O2"]].enumerated() {
            let arguments = ["gcc"] + flags + ["-Iinclude", "-c", "src/prog.c", "-o"]
            let gate = openGate(project, when: server, count: index + 1)
            let remote = try Fixtures.sshcc(
                arguments + ["out-remote/\(index).o"], in: project.path, environment: environment)
            #expect(gate.wait(), "sshccd got job \(index) ready before its source came")
            #expect(remote.status == 0, "\(remote.stderrText)")
            #expect(remote.stderrText.contains("compiled on"), "\(remote.stderrText)")
            try Fixtures.local(
                ["/usr/bin/gcc"] + arguments.dropFirst() + ["out-local/\(index).o"], in: project.path,
                environment: environment)
            #expect(try project.read("out-remote/\(index).o") == project.read("out-local/\(index).o"), "job \(index)")
        }
        let log = (try? String(contentsOfFile: server.sshccdLog, encoding: .utf8)) ?? ""
        let early = log.split(separator: "\n").filter { $0.contains("started-early") }
        #expect(early.count == 2, "both jobs found gcc started before their source arrived\n\(log)")
        attachLogsOnFailure(server, early.count == 2)
    }

    /// `#include` of a missing file: the build sees gcc's own message and status, the server's job is dropped
    /// with its channel, nothing counts as a done or failed job, and the next job runs normally.
    @Test func aFailedPreprocessingCancelsTheJob() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = environment(server, try gatedPreprocessor(project))
        // Enough code before the failing line that the server is still compiling it when the withdrawal
        // comes (a file that compiles in a millisecond may be answered first, and there is nothing to stop).
        let ahead = (0..<400).map { "int f\($0)(int x) { for (int i = 0; i < x; i++) x ^= i * \($0); return x; }\n" }
            .joined()
        try project.write("src/missing.c", ahead + "#include \"no-such-header.h\"\nint x;\n")
        let local = try Fixtures.local(
            ["/usr/bin/gcc", "-c", "src/missing.c", "-o", "out-local/missing.o"], in: project.path,
            environment: environment)
        let gate = openGate(project, when: server, count: 1)
        let remote = try Fixtures.sshcc(
            ["gcc", "-c", "src/missing.c", "-o", "out-remote/missing.o"], in: project.path, environment: environment)
        #expect(gate.wait(), "sshccd got the job ready before the preprocessing failed")
        #expect(local.status != 0)
        #expect(remote.status == local.status)
        #expect(remote.stderrText.contains(local.stderrText), "gcc's own message:\n\(remote.stderrText)")
        #expect(!project.exists("out-remote/missing.o"))
        // The text came before gcc's status, so the source went out too; the wrapper then left, and the mux
        // closed the channel: sshccd stops the compile (or sees its input or output end, if earlier).
        #expect(
            eventually {
                let log = (try? String(contentsOfFile: server.sshccdLog, encoding: .utf8)) ?? ""
                return log.contains("the client went away; compile stopped")
                    || log.contains("client closed the stream early")
                    || log.contains("the client closed the reply stream")
            })

        #expect(FileManager.default.createFile(atPath: project.path + "/gate", contents: nil))
        let next = try Fixtures.sshcc(
            ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"], in: project.path,
            environment: environment)
        #expect(next.status == 0)
        #expect(next.stderrText.contains("compiled on"), "\(next.stderrText)")
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
        #expect(status.contains("jobs 1 done, 0 failed"), "\(status)")
        attachLogsOnFailure(server, status.contains("jobs 1 done, 0 failed"))
    }

    /// A large source whose preprocessing fails at its end: its first pieces are already on the channel when
    /// the failure is known. The build sees gcc's message and status, the job is withdrawn without counting,
    /// and the next large job streams and compiles normally.
    @Test func aLargeSourceFailingAfterItsPiecesWentIsWithdrawn() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_VERBOSE": "1"])
        let functions = (0..<6000).map { "int g\($0)(int x) { return x + \($0); }\n" }.joined()
        try project.write("src/late.c", functions + "#include \"no-such-header.h\"\n")
        try project.write("src/large.c", functions)
        let local = try Fixtures.local(
            ["/usr/bin/gcc", "-c", "src/late.c", "-o", "out-local/late.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(
            ["gcc", "-c", "src/late.c", "-o", "out-remote/late.o"], in: project.path, environment: environment)
        #expect(local.status != 0)
        #expect(remote.status == local.status)
        #expect(remote.stderrText.contains(local.stderrText), "gcc's own message:\n\(remote.stderrText)")
        #expect(!project.exists("out-remote/late.o"))

        let next = try Fixtures.sshcc(
            ["gcc", "-c", "src/large.c", "-o", "out-remote/large.o"], in: project.path, environment: environment)
        #expect(next.status == 0)
        #expect(next.stderrText.contains("compiled on"), "\(next.stderrText)")
        try Fixtures.local(
            ["/usr/bin/gcc", "-c", "src/large.c", "-o", "out-local/large.o"], in: project.path, environment: environment
        )
        #expect(try project.read("out-remote/large.o") == project.read("out-local/large.o"))
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
        #expect(status.contains("jobs 1 done, 0 failed"), "\(status)")
        let ahead = status.firstMatch(of: /source streamed, ([0-9]+) pieces ahead/).flatMap { Int($0.1) } ?? 0
        #expect(ahead >= 2, "the good job's source went in pieces\n\(status)")
        attachLogsOnFailure(server, status.contains("jobs 1 done, 0 failed"))
    }
}
