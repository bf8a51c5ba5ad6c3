// Placement against real servers: each sshccd tells its load (in every protocol 6 reply and when asked on an
// idle channel), `sshcc --status` shows it with each host's learned speed, the speeds outlive the daemon, and a
// job stuck on a slow host is raced by a copy on a free one, whose server stops the loser at once.

import Foundation
import POSIXSupport
import TestSupport
import Testing

@Suite struct FarmPlacementTests {
    /// A server whose compiles take `seconds` longer: a `gcc` on its PATH waits, then hands over to the real
    /// one (the same toolchain, so sshcc's check passes); its steps run through that driver.
    static func slowServer(seconds: Int) throws -> (SSHDServer, TemporaryDirectory) {
        let tools = try TemporaryDirectory("sshcc-slow-gcc")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tools.path)
        let script = """
            #!/bin/sh
            case " $* " in *" -c "*) case " $* " in *" -###"*) ;; *) sleep \(seconds) ;; esac ;; esac
            exec /usr/bin/gcc "$@"

            """
        try tools.write("gcc", script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tools.path + "/gcc")
        let server = try SSHDServer(
            sshccdOptions: ["--direct-steps", "off"], extraConfig: ["SetEnv PATH=\(tools.path):/usr/bin:/bin"])
        return (server, tools)
    }

    /// The server's log once a job there has ended: stopped because its client left, or answered.
    static func waitForJobEnd(on server: SSHDServer) -> String {
        while true {
            let log = server.sshccdLogText
            if log.contains("the client went away") || log.contains("] info: job ") { return log }
            CurrentProcess.sleep(milliseconds: 50)
        }
    }

    func status(_ environment: [String: String], json: Bool = false) throws -> String {
        try Command.run(Products.sshcc, ["--status"] + (json ? ["--json"] : []), environment: environment).stdoutText
    }

    @Test func statusShowsEachServersLoadAndLearnedSpeedWhichOutliveTheDaemon() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        var environment = server.clientEnvironment(["SSHCC_HOSTS": "\(server.hostSpec)/6", "SSHCC_FALLBACK": "0"])
        environment["SSHCC_DIR"] = project.muxDirectory
        for name in ["a", "b", "c"] {
            try project.write("src/\(name).c", "int \(name)(void) { return 2; }\n")
            let result = try Fixtures.sshcc(
                ["gcc", "-c", "src/\(name).c", "-o", "\(name).o"], in: project.path, environment: environment)
            #expect(result.status == 0, "\(result.stderrText)")
        }
        let text = try status(environment)
        // The machine's own slots (sshccd --jobs 4), fewer than the six declared; none busy after the build.
        #expect(text.contains("load: 0/4 slots busy (0 yours), 0 other users waiting"), "\(text)")
        #expect(text.contains("takes 4 of this daemon's jobs at once"), "\(text)")
        #expect(text.contains("farm capacity: 4 jobs at once"), "\(text)")
        #expect(try Command.run(Products.sshcc, ["--jobs"], environment: environment).stdoutText == "4\n")
        #expect(text.contains("learned from 3 jobs"), "\(text)")
        #expect(text.contains("protocol 7 (source streamed"), "\(text)")
        let object =
            try JSONSerialization.jsonObject(with: Data(status(environment, json: true).utf8)) as? [String: Any]
        let host = (object?["hosts"] as? [[String: Any]])?.first
        #expect((host?["load"] as? [String: Any])?["slots"] as? Int == 4)
        #expect((host?["speed"] as? [String: Any])?["samples"] as? Int == 3)
        #expect(host?["capacity"] as? Int == 4 && object?["farm_capacity"] as? Int == 4)

        // A new daemon starts with what the last one learned (SSHCC_DIR/speeds, private).
        #expect(try Command.run(Products.sshcc, ["--stop"], environment: environment).status == 0)
        // Without a daemon, --jobs can only add up the declared slots.
        #expect(try Command.run(Products.sshcc, ["--jobs"], environment: environment).stdoutText == "6\n")
        let kept = project.muxDirectory + "/speeds"
        let mode = (try? FileManager.default.attributesOfItem(atPath: kept)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
        #expect(((try? String(contentsOfFile: kept, encoding: .utf8)) ?? "").contains(" 3\n"))
        // Another job (the same one again would be answered from the server's object cache, which teaches
        // nothing of its speed).
        let again = try Fixtures.sshcc(
            ["gcc", "-O1", "-c", "src/a.c", "-o", "a.o"], in: project.path, environment: environment)
        #expect(again.status == 0, "\(again.stderrText)")
        #expect(try status(environment).contains("learned from 4 jobs"))
    }

    @Test func aJobStuckOnASlowHostIsRacedAndTheLoserStoppedAtOnce() throws {
        let (slow, tools) = try Self.slowServer(seconds: 20)
        defer { withExtendedLifetime(tools) {} }
        let fast = try SSHDServer()
        try fast.trust(clientOf: slow)
        let project = try Fixtures.project()
        var environment = slow.clientEnvironment([
            "SSHCC_HOSTS": "\(slow.hostSpec)/1 \(fast.hostSpec)/1", "SSHCC_FALLBACK": "0", "SSHCC_LOG_LEVEL": "debug",
        ])
        environment["SSHCC_DIR"] = project.muxDirectory
        for name in ["a", "b"] { try project.write("src/\(name).c", "int \(name)(void) { return 3; }\n") }
        // Two jobs at once, one slot on each host: one lands on the slow host.
        let buildEnvironment = environment
        let builds = ["a", "b"].map { name in
            Background {
                try? Fixtures.sshcc(
                    ["gcc", "-O2", "-c", "src/\(name).c", "-o", "\(name).o"], in: project.path,
                    environment: buildEnvironment)
            }
        }
        for build in builds { #expect(build.wait()?.status == 0, "\(build.wait()?.stderrText ?? "")") }
        for name in ["a", "b"] {
            let local = try Fixtures.local(
                ["gcc", "-O2", "-c", "src/\(name).c", "-o", "\(name)-local.o"], in: project.path,
                environment: environment)
            #expect(local.status == 0)
            #expect(
                FileManager.default.contents(atPath: project.path + "/\(name).o")
                    == FileManager.default.contents(atPath: project.path + "/\(name)-local.o"))
        }
        let log = (try? String(contentsOfFile: project.muxDirectory + "/mux.log", encoding: .utf8)) ?? ""
        #expect(log.contains("still running on \(slow.hostSpec)/1; a copy races it on \(fast.hostSpec)/1"), "\(log)")
        #expect(log.contains("answered first"), "\(log)")
        // The loser's copy was withdrawn (its channel closed) as soon as the copy answered.
        #expect(log.contains("its copy on \(slow.hostSpec)/1 is withdrawn (the other answered first)"), "\(log)")
        #expect(fast.jobsServed == 2, "\(log)")
        // The slow server stopped the loser's compile instead of finishing it for nobody: its log tells one or
        // the other once the job has ended there (stopped now, or finished when the 20 s have passed).
        let slowLog = Self.waitForJobEnd(on: slow)
        #expect(slowLog.contains("the client went away; compile stopped"), "\(slowLog)\n\(slow.logs)")
        // The slow host is now known to be slow: the next job goes to the fast one though the slow one is free.
        let next = try Fixtures.sshcc(
            ["gcc", "-c", "src/a.c", "-o", "c.o"], in: project.path, environment: environment)
        #expect(next.status == 0)
        let after = (try? status(environment)) ?? ""
        #expect(fast.jobsServed == 3, "\(after)")
    }
}
