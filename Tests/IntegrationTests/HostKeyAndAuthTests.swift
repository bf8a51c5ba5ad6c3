// The SSH things people get wrong, through a real sshd: each refuses the host with a message that names
// it and the fix, sends nothing when the host key is wrong, and falls back (or not) as configured.

import Foundation
import TestSupport
import Testing

@Suite struct HostKeyAndAuthTests {
    static let compile = ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"]

    /// The SHA256 fingerprint OpenSSH shows for a public key file.
    static func fingerprint(_ publicKey: String) throws -> String {
        let line = try Command.check("ssh-keygen", ["-lf", publicKey]).stdoutText
        return String(line.split(separator: " ")[1])
    }

    @Test func unknownHostKeyIsRefusedWithTheFix() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try "".write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 105)
        #expect(result.stderrText.contains("host key for [127.0.0.1]:\(server.port) is not known"))
        #expect(result.stderrText.contains(try Self.fingerprint(server.hostKeyPublic)))
        #expect(
            result.stderrText.contains("ssh-keyscan -p \(server.port) -t ed25519 127.0.0.1 >> \(server.knownHosts)"))
        #expect(server.logins == 0, "nothing may be sent to an unverified host")
        #expect(!project.exists("out-remote/prog.o"))
    }

    @Test func unknownHostFallsBackLocallyWithAWarning() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try "".write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        let result = try Fixtures.sshcc(Self.compile, in: project.path, environment: server.clientEnvironment())
        #expect(result.status == 0)
        #expect(result.stderrText.contains("compiling locally"))
        try Fixtures.local(
            ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-local/prog.o"], in: project.path,
            environment: server.clientEnvironment())
        #expect(try project.read("out-remote/prog.o") == project.read("out-local/prog.o"))
        #expect(server.jobsServed == 0)
    }

    /// OpenSSH looks a non-22 port up as `[host]:port` only; a port-less entry must not vouch for it.
    @Test func portlessEntryDoesNotVouchForAnotherPort() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let key = try String(contentsOfFile: server.hostKeyPublic, encoding: .utf8).split(separator: " ").prefix(2)
            .joined(separator: " ")
        try "127.0.0.1 \(key)\n".write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 105)
    }

    @Test func hashedKnownHostsEntryIsAccepted() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try Command.check("ssh-keygen", ["-H", "-f", server.knownHosts])
        #expect(!(try String(contentsOfFile: server.knownHosts, encoding: .utf8)).contains("127.0.0.1"))
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(server.jobsServed == 1)
        attachLogsOnFailure(server, result.status == 0 && server.jobsServed == 1)
    }

    @Test func changedHostKeyIsRefusedLoudlyAndNothingIsSent() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let other = try TemporaryDirectory()
        try Command.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other.path + "/impostor"])
        try server.writeKnownHosts(key: String(contentsOfFile: other.path + "/impostor.pub", encoding: .utf8))
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 106)
        #expect(result.stderrText.contains("HOST KEY FOR [127.0.0.1]:\(server.port) HAS CHANGED"))
        #expect(result.stderrText.contains("ssh-keygen -R '[127.0.0.1]:\(server.port)' -f \(server.knownHosts)"))
        #expect(result.stderrText.contains(try Self.fingerprint(server.hostKeyPublic)))
        #expect(server.logins == 0)
        #expect(server.jobsServed == 0)
    }

    @Test func revokedHostKeyIsRefused() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let key = try String(contentsOfFile: server.hostKeyPublic, encoding: .utf8).split(separator: " ").prefix(2)
            .joined(separator: " ")
        let known = try String(contentsOfFile: server.knownHosts, encoding: .utf8)
        try (known + "@revoked * \(key)\n").write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 106)
        #expect(result.stderrText.contains("REVOKED"))
    }

    @Test func keyTheServerDoesNotKnowIsRefused() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let keys = try TemporaryDirectory()
        try Command.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keys.path + "/stranger"])
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path,
            environment: server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_IDENTITY": keys.path + "/stranger"]))
        #expect(result.status == 107)
        #expect(result.stderrText.contains("refused every key"))
        #expect(result.stderrText.contains(keys.path + "/stranger (ssh-ed25519) was refused"))
        #expect(result.stderrText.contains("authorized_keys"))
    }

    /// libssh2 1.10 signs only with SHA-1 ssh-rsa, which OpenSSH 8.8+ refuses even for an authorized key.
    @Test func rsaKeyIsExplained() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let rsa = server.directory.path + "/id_rsa"
        try Command.check("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa])
        let authorized = try String(contentsOfFile: server.directory.path + "/authorized_keys", encoding: .utf8)
        try (authorized + String(contentsOfFile: rsa + ".pub", encoding: .utf8))
            .write(toFile: server.directory.path + "/authorized_keys", atomically: true, encoding: .utf8)
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path,
            environment: server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_IDENTITY": rsa]))
        #expect(result.status == 107)
        #expect(result.stderrText.contains("RSA keys cannot work"))
        #expect(result.stderrText.contains("ssh-keygen -t ed25519"))
    }

    @Test func passphraseProtectedKeyPointsToTheAgent() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let locked = server.directory.path + "/locked"
        try Command.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret phrase", "-f", locked])
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path,
            environment: server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_IDENTITY": locked]))
        #expect(result.status == 107)
        #expect(result.stderrText.contains("passphrase-protected"))
        #expect(result.stderrText.contains("ssh-add"))
        #expect(!result.stderrText.contains("secret phrase"))
    }

    @Test func agentAndDefaultKeysAreUsedWithoutSSHCCIdentity() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        // ssh-agent holding the user key, started and stopped by this test.
        let socket = server.directory.path + "/agent.sock"
        // ssh-agent daemonizes with stdout still open: send it to a file, or reading the pipe never ends.
        let agentOutput = server.directory.path + "/agent.out"
        try Command.check("/bin/sh", ["-c", "exec ssh-agent -a '\(socket)' > '\(agentOutput)' 2>&1 < /dev/null"])
        let agent = try String(contentsOfFile: agentOutput, encoding: .utf8)
        let agentPid = agent.split(separator: ";").first { $0.contains("SSH_AGENT_PID=") }.flatMap {
            Int32($0.split(separator: "=")[1])
        }
        defer { if let agentPid { kill(agentPid, SIGTERM) } }
        _ = try Command.run("ssh-add", [server.userKey], environment: ["SSH_AUTH_SOCK": socket])
        var environment = server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSH_AUTH_SOCK": socket])
        environment.removeValue(forKey: "SSHCC_IDENTITY")
        let viaAgent = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(viaAgent.status == 0, "\(viaAgent.stderrText)")

        // No agent: the key file the SSH configuration names (OpenSSH's own default files live in the
        // password database's home, which a hermetic test cannot use; `~` there is not $HOME).
        environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let home = environment["HOME"]!
        try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: server.userKey, toPath: home + "/.ssh/id_ed25519")
        try "Host *\n  IdentityFile \(home)/.ssh/id_ed25519\n".write(
            toFile: server.sshConfig, atomically: true, encoding: .utf8)
        let viaFile = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(viaFile.status == 0, "\(viaFile.stderrText)")
        #expect(server.jobsServed == 2)
        attachLogsOnFailure(server, viaAgent.status == 0 && viaFile.status == 0)
    }

    /// Keys/README.md tells operators to add keys with `restrict`: the subsystem must still work.
    @Test func restrictedKeyCompiles() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let line = try String(contentsOfFile: server.userKey + ".pub", encoding: .utf8)
        try ("restrict " + line).write(
            toFile: server.directory.path + "/authorized_keys", atomically: true, encoding: .utf8)
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(server.jobsServed == 1)
        attachLogsOnFailure(server, result.status == 0 && server.jobsServed == 1)
    }

    @Test func hostThatIsDownFallsBackOrFails() throws {
        let project = try Fixtures.project()
        let keys = try TemporaryDirectory()
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"]!, "HOME": keys.path,
            "SSHCC_HOSTS": "127.0.0.1:\(SSHDServer.closedPort())", "SSHCC_KNOWN_HOSTS": keys.path + "/known_hosts",
        ]
        let fallback = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        #expect(fallback.status == 0)
        #expect(fallback.stderrText.hasPrefix("sshcc: warning: cannot reach 127.0.0.1:"))
        #expect(fallback.stderrText.contains("Connection refused; compiling locally"))
        #expect(project.exists("out-remote/prog.o"))

        try FileManager.default.removeItem(atPath: project.path + "/out-remote/prog.o")
        var strict = environment
        strict["SSHCC_FALLBACK"] = "0"
        let failed = try Fixtures.sshcc(Self.compile, in: project.path, environment: strict)
        #expect(failed.status == 104)
        #expect(failed.stderrText.contains("SSHCC_FALLBACK=0"))
        #expect(!project.exists("out-remote/prog.o"))
    }

    @Test func serverWithoutTheSubsystemIsExplained() throws {
        let server = try SSHDServer(subsystem: false)
        let project = try Fixtures.project()
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 108)
        #expect(result.stderrText.contains("has no 'sshcc' subsystem"))
        #expect(result.stderrText.contains("Subsystem sshcc /usr/local/bin/sshccd"))
    }

    @Test func subsystemWhoseBinaryIsMissingIsExplained() throws {
        let server = try SSHDServer(subsystem: false, extraConfig: ["Subsystem sshcc /nonexistent/sshccd"])
        let project = try Fixtures.project()
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 108)
        #expect(result.stderrText.contains("sshccd is not installed on 127.0.0.1:\(server.port)"))
    }

    @Test func secondHostIsTriedWhenTheFirstIsDown() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let hosts = "127.0.0.1:\(SSHDServer.closedPort()) \(server.hostSpec)"
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path,
            environment: server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_HOSTS": hosts]))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(server.jobsServed == 1)
        attachLogsOnFailure(server, result.status == 0 && server.jobsServed == 1)
    }

    @Test func hostListFromTheConfigFileAndShowHosts() throws {
        let server = try SSHDServer()
        let config = try TemporaryDirectory()
        try config.write("sshcc/hosts", "# farm\n\(server.hostSpec)/6  # loopback\nlocalhost/2\n")
        var environment = server.clientEnvironment(["XDG_CONFIG_HOME": config.path])
        environment.removeValue(forKey: "SSHCC_HOSTS")
        let shown = try Command.run(Products.sshcc, ["--show-hosts"], environment: environment)
        #expect(shown.status == 0)
        #expect(shown.stdoutText.contains("127.0.0.1:\(server.port)/6  user="))
        #expect(shown.stdoutText.contains("localhost  local slots=2"))

        let bad = try Command.run(
            Products.sshcc, ["--show-hosts"], environment: server.clientEnvironment(["SSHCC_HOSTS": "host:99999"]))
        #expect(bad.status == 102)
        #expect(bad.stderrText.contains("bad host entry 'host:99999': port must be 1 to 65535"))
    }

    /// One typo in the hosts file must not take the farm away: the entry is skipped, and the build hears of it
    /// once, by file and line.
    @Test func aBadHostEntryIsSkippedWithOneWarningNamingItsLine() throws {
        let server = try SSHDServer()
        let config = try TemporaryDirectory()
        let hostsFile = try config.write("sshcc/hosts", "# farm\n\(server.hostSpec)/4\nbuild2:99999/8  # typo\n")
        var environment = server.clientEnvironment(["XDG_CONFIG_HOME": config.path, "SSHCC_FALLBACK": "0"])
        environment.removeValue(forKey: "SSHCC_HOSTS")
        let project = try MuxDaemonTests.buildProject(8)
        environment["SSHCC_DIR"] = project.muxDirectory
        let build = try MuxDaemonTests.build(project, parallel: 4, environment: environment)
        #expect(build.status == 0, "\(build.stderrText)")
        #expect(MuxDaemonTests.mismatches(project, count: 8).isEmpty)
        #expect(server.jobsServed == 8, "the good entry took every job")
        let warning =
            "sshcc: warning: \(hostsFile) line 3: bad host entry 'build2:99999/8': port must be 1 to 65535; the entry is skipped"
        #expect(build.stderrText == warning + "\n", "\(build.stderrText)")
        let shown = try Command.run(Products.sshcc, ["--show-hosts"], environment: environment)
        #expect(shown.stdoutText.contains("# skipped: \(hostsFile) line 3: bad host entry 'build2:99999/8'"))
        #expect(shown.stdoutText.contains("\(server.hostSpec)  user=root host=127.0.0.1 port=\(server.port) slots=4"))
    }
}
