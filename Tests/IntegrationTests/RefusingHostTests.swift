// A server that refuses jobs for a reason of its own, through real sshd instances: a broken configuration
// (every job refused) backs the host off — one job reaches it, the build hears it once, `--status` counts it
// as refused — and a compiler the server lacks keeps that compiler's jobs away from it while another host
// compiles them. A refusal of one job (its own arguments) stays that job's alone.

import Foundation
import TestSupport
import Testing

@Suite struct RefusingHostTests {
    static func status(_ project: TemporaryDirectory, _ environment: [String: String]) throws -> String {
        var environment = environment
        environment["SSHCC_DIR"] = project.muxDirectory
        return try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
    }

    @Test func aHostWithABrokenConfigurationIsBackedOffAndNamedOnce() throws {
        // A configuration file that is named but not there: sshccd refuses every job, saying so.
        let server = try SSHDServer(sshccdOptions: ["--config", "/nonexistent/sshccd.conf"])
        let project = try MuxDaemonTests.buildProject(8)
        let environment = server.clientEnvironment()
        let build = try MuxDaemonTests.build(project, parallel: 2, environment: environment)
        #expect(build.status == 0, "\(build.stderrText)")
        #expect(MuxDaemonTests.mismatches(project, count: 8).isEmpty, "every object compiled locally")
        let warnings = build.stderrText.split(separator: "\n").filter { $0.hasPrefix("sshcc: warning:") }
        #expect(warnings.count == 1, "\(build.stderrText)")
        #expect(warnings.first?.contains("refuses every job: sshccd: its configuration is not usable") == true)
        #expect(warnings.first?.contains("/nonexistent/sshccd.conf") == true)
        #expect(build.stderrText.contains("(said once: later jobs meeting it compile locally without a word"))
        // Jobs already on their way when the first refusal came may reach it too; the rest never left.
        let refusedThere = server.sshccdLogText.components(separatedBy: "refused: its configuration").count - 1
        #expect((1...2).contains(refusedThere), "\(refusedThere) jobs reached the refusing host")
        let status = try Self.status(project, environment)
        #expect(status.contains(": down (jobs go elsewhere"), "\(status)")
        #expect(status.contains("refused (went elsewhere)") && status.contains("jobs 0 done"), "\(status)")
        // The summary of the quiet ones: every job, for the one reason.
        #expect(status.contains("compiled locally instead: 8 job(s)\n  8 × "), "\(status)")
        attachLogsOnFailure(server, warnings.count == 1)
    }

    @Test func aCompilerOneHostLacksGoesToTheOther() throws {
        let lacking = try SSHDServer(sshccdOptions: ["--compilers", "cc"])
        let full = try SSHDServer()
        let project = try MuxDaemonTests.buildProject(8)
        // One client environment for both (the same key trusted by both servers).
        let keys = try String(contentsOfFile: lacking.directory.path + "/authorized_keys", encoding: .utf8)
        try (keys + String(contentsOfFile: full.userKey + ".pub", encoding: .utf8))
            .write(toFile: lacking.directory.path + "/authorized_keys", atomically: true, encoding: .utf8)
        let knownHosts =
            try String(contentsOfFile: lacking.knownHosts, encoding: .utf8)
            + String(contentsOfFile: full.knownHosts, encoding: .utf8)
        try knownHosts.write(toFile: full.knownHosts, atomically: true, encoding: .utf8)
        let environment = full.clientEnvironment([
            "SSHCC_HOSTS": "\(lacking.hostSpec)/4 \(full.hostSpec)/2", "SSHCC_FALLBACK": "0",
        ])
        let build = try MuxDaemonTests.build(project, parallel: 4, environment: environment)
        #expect(build.status == 0, "\(build.stderrText)")
        #expect(MuxDaemonTests.mismatches(project, count: 8).isEmpty)
        #expect(!build.stderrText.contains("warning"), "\(build.stderrText)")
        #expect(full.jobsServed == 8, "every job compiled on the host that has gcc")
        let refusedThere = lacking.sshccdLogText.components(separatedBy: "refused: compiler 'gcc'").count - 1
        #expect((1...4).contains(refusedThere), "at most the jobs sent before the first refusal came back")
        let status = try Self.status(project, environment)
        #expect(status.contains("refuses gcc: "), "\(status)")
        attachLogsOnFailure(lacking, build.status == 0)
    }
}
