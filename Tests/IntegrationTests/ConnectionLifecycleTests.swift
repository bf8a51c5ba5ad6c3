// Staying connected to real servers: sshd restarted while the daemon is idle (the next job reconnects at
// once), a server that refuses every session (a clear failure at once, and logins counted: no reconnect
// storm), MaxSessions 1 with idle channels closed by ChannelTimeout, a login cut short (a lost connection, not a
// refused key). Every job with SSHCC_FALLBACK=0, so a job that did not compile remotely shows.

import Foundation
import TestSupport
import Testing

@Suite struct ConnectionLifecycleTests {
    static let compile = ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"]

    static func status(_ project: TemporaryDirectory, _ environment: [String: String]) throws -> String {
        try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
    }

    @Test func aServerThatCameBackIsUsedAtOnce() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let first = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(first.status == 0, "\(first.stderrText)")

        // The machine reboots while the daemon is idle: every sshd process dies, then sshd is back.
        server.killAll()
        #expect(
            eventually { (try? Self.status(project, environment))?.contains(": disconnected") == true },
            "the daemon noticed the connection end")
        try server.restart()
        let second = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(second.status == 0, "\(second.stderrText)")
        #expect(server.logins == 2)

        // Down while a job needs it: the job hears it at once, the host is backed off (briefly) and then
        // used again on the next job.
        server.killAll()
        _ = eventually { (try? Self.status(project, environment))?.contains(": disconnected") == true }
        let down = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(down.status == 104, "\(down.stderrText)")
        #expect(try Self.status(project, environment).contains(": down (jobs go elsewhere for"))
        try server.restart()
        #expect(
            eventually(within: 10) {
                (try? Fixtures.sshcc(Self.compile, in: project.path, environment: environment))?.status == 0
            })
        #expect(server.logins == 3)
        attachLogsOnFailure(server, second.status == 0)
    }

    /// MaxSessions 0: the login works, no channel ever opens. One login, then every job fails at once with
    /// the reason (or compiles locally when fallback is allowed), and --status says why.
    @Test func aServerRefusingEverySessionIsNotHammered() throws {
        let server = try SSHDServer(extraConfig: ["MaxSessions 0"])
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        for _ in 0..<4 {
            let result = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
            #expect(result.status == 108, "\(result.stderrText)")
            #expect(result.stderrText.contains("refuses every session"), "\(result.stderrText)")
        }
        #expect(server.logins == 1, "one login, not a reconnect loop")
        let status = try Self.status(project, environment)
        #expect(status.contains(": down") && status.contains("refuses every session"), "\(status)")
        // The reason was said (four times, each a failing job); falling back now, the job says it again only
        // when asked to (SSHCC_VERBOSE).
        let withFallback = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment())
        #expect(withFallback.status == 0 && withFallback.stderrText.isEmpty, "\(withFallback.stderrText)")
        let verbose = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_VERBOSE": "1"]))
        #expect(verbose.status == 0 && verbose.stderrText.contains("refuses every session; compiling locally"))
        #expect(server.logins == 1)
        #expect(server.jobsServed == 0)
    }

    /// One channel per connection, and idle channels closed by the server after a second: two builds with a
    /// pause between them compile every file remotely.
    @Test func maxSessionsOneAndChannelTimeout() throws {
        let server = try SSHDServer(extraConfig: ["MaxSessions 1", "ChannelTimeout session=1s"])
        let project = try MuxDaemonTests.buildProject(8)
        let environment = server.clientEnvironment(["SSHCC_HOSTS": "\(server.hostSpec)/3", "SSHCC_FALLBACK": "0"])
        for round in 0..<2 {
            try? FileManager.default.removeItem(atPath: project.path + "/remote")
            let result = try MuxDaemonTests.build(project, parallel: 3, environment: environment)
            #expect(result.status == 0, "round \(round): \(result.stderrText)")
            #expect(MuxDaemonTests.mismatches(project, count: 8).isEmpty)
            if round == 0 { usleep(2_500_000) }  // every channel idles past ChannelTimeout
        }
        #expect(server.jobsServed == 16)
        let log = (try? String(contentsOfFile: server.sshdLog, encoding: .utf8)) ?? ""
        #expect(log.contains("no more sessions"), "MaxSessions 1 was reached")
        attachLogsOnFailure(server, server.jobsServed == 16)
    }

    /// The connection ends while sshd decides on the key — its session process dies in the middle of the
    /// login, as when a link resets there. libssh2 reports that as a refused key; it is a lost connection,
    /// retried at once, never "refused every key" (which would keep the host out of the whole build).
    @Test(.enabled(if: getuid() == 0, "AuthorizedKeysCommandUser root needs a root sshd"))
    func aLoginCutShortIsALostConnection() throws {
        // sshd runs this for the key it is asked about: it kills its own session process (the command's parent)
        // while `drops` says so, and otherwise vouches for the test's key.
        let keys = try TemporaryDirectory("sshcc-login-cut")
        try keys.write(
            "keys.sh",
            """
            n=$(cat \(keys.path)/drops)
            if [ "$n" -gt 0 ]; then echo $((n - 1)) > \(keys.path)/drops; kill -9 $PPID; sleep 5; fi
            cat \(keys.path)/authorized

            """)
        try keys.write("drops", "1\n")
        let server = try SSHDServer(extraConfig: [
            "AuthorizedKeysCommand /bin/sh \(keys.path)/keys.sh", "AuthorizedKeysCommandUser root",
        ])
        // sshd reads AuthorizedKeysFile before it runs the command: the key is vouched for by the command alone.
        try FileManager.default.moveItem(
            atPath: server.directory.path + "/authorized_keys", toPath: keys.path + "/authorized")
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])

        let retried = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(retried.status == 0, "\(retried.stderrText)")
        #expect(String(decoding: try keys.read("drops"), as: UTF8.self) == "0\n", "the first login was cut short")
        #expect(server.logins == 1 && server.jobsServed == 1)
        server.directory.stopMuxDaemon()

        // Cut every time: the job fails as a lost connection (SSHCC_FALLBACK=0), and says so.
        try keys.write("drops", "100\n")
        let lost = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(lost.status == 104, "\(lost.stderrText)")
        #expect(lost.stderrText.contains("while logging in"), "\(lost.stderrText)")
        #expect(!lost.stderrText.contains("refused"), "\(lost.stderrText)")
        attachLogsOnFailure(server, retried.status == 0 && lost.status == 104)
    }

    /// The host list changed between builds: `--status` still shows what the daemon knows of the old hosts,
    /// marked as not in the latest job's list.
    @Test func statusMarksHostsOfAnOldList() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let gone = "127.0.0.1:\(SSHDServer.closedPort())"
        let before = server.clientEnvironment(["SSHCC_HOSTS": "\(gone) \(server.hostSpec)"])
        #expect(try Fixtures.sshcc(Self.compile, in: project.path, environment: before).status == 0)
        let after = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let result = try Fixtures.sshcc(Self.compile, in: project.path, environment: after)
        #expect(result.status == 0, "\(result.stderrText)")
        let status = try Self.status(project, after)
        #expect(status.contains("\(gone): down") && status.contains("(not in the latest job's host list)"), "\(status)")
        #expect(!status.contains("\(server.hostSpec): up (not in"), "\(status)")
    }
}
