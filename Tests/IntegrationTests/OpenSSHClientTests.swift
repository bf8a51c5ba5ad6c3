// Reaching servers the way OpenSSH users reach them, through real sshd instances with the three stock host
// keys: known_hosts written by `ssh` itself, changed keys, patterns, negation and several files, a
// ~/.ssh/config alias, an agent holding more keys than MaxAuthTries, and build servers behind a bastion
// (ProxyJump and ProxyCommand) in a network namespace of the test's own. In each, OpenSSH's own `ssh` is the
// control that the setup is right; every compile is checked against a local one and counted on the server.

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct OpenSSHClientTests {
    static let compile = ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"]

    /// The `type base64` of one of the server's host keys.
    static func hostKey(_ server: SSHDServer, _ type: String) throws -> String {
        try String(contentsOfFile: server.directory.path + "/host_\(type).pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// OpenSSH's `ssh` with the test's config and nothing of the machine's (no agent, no ~/.ssh/config).
    static func ssh(_ server: SSHDServer, _ arguments: [String], agent: String? = nil) throws -> CommandResult {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C"]
        environment["SSH_AUTH_SOCK"] = agent
        return try Command.run(
            "ssh", ["-F", server.sshConfig, "-o", "BatchMode=yes"] + arguments + ["true"], environment: environment)
    }

    /// Compiles through sshcc with `environment` (no fallback) and checks the object against a local compile
    /// and that the server compiled it.
    static func compilesRemotely(_ server: SSHDServer, _ environment: [String: String]) throws -> CommandResult {
        let project = try Fixtures.project()
        let before = server.jobsServed
        var environment = environment
        environment["SSHCC_FALLBACK"] = "0"
        let result = try Fixtures.sshcc(Self.compile, in: project.path, environment: environment)
        guard result.status == 0 else { return result }
        try Fixtures.local(
            ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-local/prog.o"], in: project.path,
            environment: environment)
        #expect(try project.read("out-remote/prog.o") == project.read("out-local/prog.o"))
        #expect(server.jobsServed == before + 1)
        return result
    }

    // MARK: Host keys

    /// `ssh` records the ed25519 key on first login; sshcc must then ask for ed25519, not ECDSA.
    @Test func knownHostsWrittenBySshItself() throws {
        let server = try SSHDServer()
        try "".write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        let control = try Self.ssh(
            server,
            [
                "-i", server.userKey, "-p", String(server.port), "-o", "UserKnownHostsFile=\(server.knownHosts)",
                "-o", "StrictHostKeyChecking=accept-new", "127.0.0.1",
            ])
        #expect(control.status == 0, "\(control.stderrText)")
        let recorded = try String(contentsOfFile: server.knownHosts, encoding: .utf8)
        #expect(recorded.contains("ssh-ed25519") && !recorded.contains("ecdsa"))
        let result = try Self.compilesRemotely(server, server.clientEnvironment())
        #expect(result.status == 0, "\(result.stderrText)")
        attachLogsOnFailure(server, result.status == 0)
    }

    /// Each stock key type alone in known_hosts is asked for and accepted (RSA is left out: this libssh2
    /// verifies only SHA-1 `ssh-rsa` host signatures, which OpenSSH 8.8+ servers no longer make).
    @Test(arguments: ["ecdsa", "ed25519"])
    func eachRecordedTypeIsNegotiated(_ type: String) throws {
        let server = try SSHDServer()
        try server.writeKnownHosts(key: try Self.hostKey(server, type))
        let result = try Self.compilesRemotely(server, server.clientEnvironment())
        #expect(result.status == 0, "\(result.stderrText)")
    }

    @Test func aChangedEd25519KeyIsRefusedLoudly() throws {
        let server = try SSHDServer()
        let other = try TemporaryDirectory("sshcc-otherkey")
        try Command.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other.path + "/k"])
        try server.writeKnownHosts(key: try String(contentsOfFile: other.path + "/k.pub", encoding: .utf8))
        // Control: OpenSSH refuses too, as a changed key.
        let control = try Self.ssh(
            server,
            [
                "-i", server.userKey, "-p", String(server.port), "-o", "UserKnownHostsFile=\(server.knownHosts)",
                "127.0.0.1",
            ])
        #expect(control.status != 0 && control.stderrText.contains("HOST IDENTIFICATION HAS CHANGED"))
        let project = try Fixtures.project()
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 106)
        #expect(result.stderrText.contains("HAS CHANGED") && result.stderrText.contains("man-in-the-middle"))
        #expect(result.stderrText.contains("\(server.knownHosts):1"))
        #expect(!result.stderrText.contains("is not known"))
        #expect(server.logins == 0)
    }

    /// A host recorded only with a key type the server does not offer (ssh-rsa here) is refused, not "unknown".
    @Test func aHostKnownOnlyByAnotherTypeIsRefused() throws {
        let server = try SSHDServer()
        try server.writeKnownHosts(key: try Self.hostKey(server, "rsa"))
        let project = try Fixtures.project()
        let result = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        #expect(result.status == 106)
        #expect(result.stderrText.contains("holds only ssh-rsa keys"))
        #expect(server.logins == 0)
    }

    /// Patterns, negation, several user files and a global file, named by the SSH configuration; `ssh` with
    /// StrictHostKeyChecking=yes is the control of each.
    @Test func knownHostsPatternsAndFiles() throws {
        let server = try SSHDServer()
        let key = try Self.hostKey(server, "ed25519")
        let dir = server.directory.path
        var environment = server.clientEnvironment()
        environment.removeValue(forKey: "SSHCC_KNOWN_HOSTS")
        let cases: [(files: [String: String], config: String, accepted: Bool)] = [
            (["kh2": "[127.0.0.*]:\(server.port) \(key)\n"], "UserKnownHostsFile \(dir)/kh1 \(dir)/kh2", true),
            (["kh1": "[127.0.0.?]:*,other \(key)\n"], "UserKnownHostsFile \(dir)/kh1", true),
            (["kh1": "[127.0.0.*]:*,![127.0.0.1]:\(server.port) \(key)\n"], "UserKnownHostsFile \(dir)/kh1", false),
            (
                ["g": "[127.0.0.1]:\(server.port) \(key)\n"], "UserKnownHostsFile none\nGlobalKnownHostsFile \(dir)/g",
                true
            ),
            (["kh1": "[127.0.0.2]:\(server.port) \(key)\n"], "UserKnownHostsFile \(dir)/kh1", false),
        ]
        for (index, item) in cases.enumerated() {
            for name in ["kh1", "kh2", "g"] { try? FileManager.default.removeItem(atPath: "\(dir)/\(name)") }
            for (name, text) in item.files {
                try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            }
            try "Host *\n  StrictHostKeyChecking yes\n  \(item.config.replacingOccurrences(of: "\n", with: "\n  "))\n"
                .write(toFile: server.sshConfig, atomically: true, encoding: .utf8)
            let control = try Self.ssh(server, ["-i", server.userKey, "-p", String(server.port), "127.0.0.1"])
            #expect((control.status == 0) == item.accepted, "case \(index): ssh says \(control.stderrText)")
            // A daemon of its own per case: a connection, once verified, is not checked again.
            environment["SSHCC_DIR"] = "\(dir)/mux-case\(index)"
            defer { server.directory.stopMuxDaemon(in: "\(dir)/mux-case\(index)") }
            if item.accepted {
                let result = try Self.compilesRemotely(server, environment)
                #expect(result.status == 0, "case \(index): \(result.stderrText)")
            } else {
                let project = try Fixtures.project()
                let result = try Fixtures.sshcc(
                    Self.compile, in: project.path, environment: environment.merging(["SSHCC_FALLBACK": "0"]) { $1 })
                #expect(result.status == 105, "case \(index): \(result.stderrText)")
            }
        }
    }

    // MARK: Configuration

    /// SSHCC_HOSTS=build1 and a `Host build1` block: HostName, User, Port, IdentityFile, IdentitiesOnly and
    /// UserKnownHostsFile come from OpenSSH; no SSHCC_IDENTITY or SSHCC_KNOWN_HOSTS.
    @Test func aConfigAliasIsReachedAsSshReachesIt() throws {
        let server = try SSHDServer()
        try """
        Host build1
          HostName 127.0.0.1
          Port \(server.port)
          User \(String(cString: getpwuid(getuid()).pointee.pw_name))
          IdentityFile \(server.userKey)
          IdentitiesOnly yes
          UserKnownHostsFile \(server.knownHosts)

        """.write(toFile: server.sshConfig, atomically: true, encoding: .utf8)
        let control = try Self.ssh(server, ["build1"])
        #expect(control.status == 0, "\(control.stderrText)")
        var environment = server.clientEnvironment(["SSHCC_HOSTS": "build1"])
        environment.removeValue(forKey: "SSHCC_IDENTITY")
        environment.removeValue(forKey: "SSHCC_KNOWN_HOSTS")
        let result = try Self.compilesRemotely(server, environment)
        #expect(result.status == 0, "\(result.stderrText)")
        // The entry's own port wins over the configuration's, as `ssh -p` does: nothing listens there.
        let closed = SSHDServer.closedPort()
        let project = try Fixtures.project()
        let wrongPort = try Fixtures.sshcc(
            Self.compile, in: project.path,
            environment: environment.merging(["SSHCC_HOSTS": "build1:\(closed)", "SSHCC_FALLBACK": "0"]) { $1 })
        #expect(wrongPort.status == 104 && wrongPort.stderrText.contains("port \(closed)"), "\(wrongPort.stderrText)")
        attachLogsOnFailure(server, result.status == 0)
    }

    /// An agent with seven keys, the right one last, against MaxAuthTries 6: with IdentitiesOnly and the
    /// key named, only that key is offered (through the agent). Without it, OpenSSH and sshcc both run out
    /// of tries — and sshcc says what to do.
    @Test func anAgentWithManyKeysAndIdentitiesOnly() throws {
        let server = try SSHDServer(extraConfig: ["MaxAuthTries 6"])
        let keys = try TemporaryDirectory("sshcc-keys")
        var others: [String] = []
        for index in 0..<6 {
            let path = keys.path + "/other\(index)"
            try Command.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path])
            others.append(path)
        }
        let agent = try SSHAgent(in: keys)
        try agent.add(others + [server.userKey])
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let block =
            "Host build1\n  HostName 127.0.0.1\n  Port \(server.port)\n  User \(user)\n  UserKnownHostsFile \(server.knownHosts)\n"
        var environment = server.clientEnvironment(["SSHCC_HOSTS": "build1", "SSH_AUTH_SOCK": agent.socket])
        environment.removeValue(forKey: "SSHCC_IDENTITY")

        // Without IdentitiesOnly: the six wrong keys use up the tries.
        try block.write(toFile: server.sshConfig, atomically: true, encoding: .utf8)
        let controlFails = try Self.ssh(server, ["build1"], agent: agent.socket)
        #expect(controlFails.status != 0 && controlFails.stderrText.contains("Too many authentication failures"))
        let project = try Fixtures.project()
        let fails = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: environment.merging(["SSHCC_FALLBACK": "0"]) { $1 })
        #expect(fails.status != 0)
        #expect(fails.stderrText.contains("IdentitiesOnly yes"), "\(fails.stderrText)")
        // sshd ended the login itself: an authentication failure (not retried) that quotes it.
        #expect(fails.status == 107 && fails.stderrText.contains("Too many authentication failures"))
        project.stopMuxDaemon()

        try (block + "  IdentityFile \(server.userKey)\n  IdentitiesOnly yes\n")
            .write(toFile: server.sshConfig, atomically: true, encoding: .utf8)
        let control = try Self.ssh(server, ["build1"], agent: agent.socket)
        #expect(control.status == 0, "\(control.stderrText)")
        // The private key file is moved away (its .pub stays, as OpenSSH allows): the login can only go
        // through the agent, which holds the key.
        try FileManager.default.moveItem(atPath: server.userKey, toPath: server.userKey + ".away")
        let viaAgent = try Self.compilesRemotely(server, environment.merging(["SSHCC_DIR": keys.path + "/mux2"]) { $1 })
        #expect(viaAgent.status == 0, "\(viaAgent.stderrText)")
        try FileManager.default.moveItem(atPath: server.userKey + ".away", toPath: server.userKey)
        keys.stopMuxDaemon(in: keys.path + "/mux2")
        attachLogsOnFailure(server, viaAgent.status == 0)
    }

    // MARK: Jump hosts

    /// Build servers in a private network (a namespace of the test's own), reached only through a bastion:
    /// ProxyJump and ProxyCommand, one login on each however many jobs; a failing hop is named.
    @Test(.enabled(if: getuid() == 0, "ip netns needs root"))
    func buildServersBehindABastion() throws {
        let network = try NetworkNamespace()
        let server = try SSHDServer(namespace: network)
        let bastion = try SSHDServer(subsystem: false, namespace: network)
        try bastion.trust(clientOf: server)
        let relay = try InetdRelay(
            namespace: network, sshdConfig: bastion.sshdConfig, log: bastion.sshdLog, directory: bastion.directory)
        // Control: the build server cannot be reached directly.
        #expect(!SSHDServer.canConnect(port: server.port))
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let known = try String(contentsOfFile: server.knownHosts, encoding: .utf8)
        try (known + "[127.0.0.1]:\(relay.port) \(try Self.hostKey(bastion, "ed25519"))\n")
            .write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        let common = "  User \(user)\n  IdentityFile \(server.userKey)\n  UserKnownHostsFile \(server.knownHosts)\n"
        let bastionBlock = "Host bastion\n  HostName 127.0.0.1\n  Port \(relay.port)\n" + common
        var environment = server.clientEnvironment(["SSHCC_HOSTS": "build1"])
        environment.removeValue(forKey: "SSHCC_IDENTITY")

        let hops = [
            "ProxyJump bastion",
            "ProxyCommand ssh -F \(server.sshConfig) -o BatchMode=yes -W %h:%p bastion",
        ]
        for (index, hop) in hops.enumerated() {
            try (bastionBlock + "Host build1\n  HostName 127.0.0.1\n  Port \(server.port)\n  \(hop)\n" + common)
                .write(toFile: server.sshConfig, atomically: true, encoding: .utf8)
            let control = try Self.ssh(server, ["build1"])
            #expect(control.status == 0, "\(hop): ssh says \(control.stderrText)")
            let bastionLogins = bastion.logins
            let serverLogins = server.logins
            let mux = server.directory.path + "/mux-hop\(index)"
            for _ in 0..<3 {
                let result = try Self.compilesRemotely(server, environment.merging(["SSHCC_DIR": mux]) { $1 })
                #expect(result.status == 0, "\(hop): \(result.stderrText)")
            }
            #expect(bastion.logins == bastionLogins + 1, "one login on the bastion for three jobs (\(hop))")
            #expect(server.logins == serverLogins + 1, "one login on the build server for three jobs (\(hop))")
            server.directory.stopMuxDaemon(in: mux)
        }

        // A bastion that is not there: the failure names the hop and what ssh said.
        let closed = SSHDServer.closedPort()
        try
            ("Host bastion\n  HostName 127.0.0.1\n  Port \(closed)\n" + common
            + "Host build1\n  HostName 127.0.0.1\n  Port \(server.port)\n  ProxyJump bastion\n" + common)
            .write(toFile: server.sshConfig, atomically: true, encoding: .utf8)
        let project = try Fixtures.project()
        let failed = try Fixtures.sshcc(
            Self.compile, in: project.path, environment: environment.merging(["SSHCC_FALLBACK": "0"]) { $1 })
        #expect(failed.status == 104)
        #expect(failed.stderrText.contains("jump host bastion"), "\(failed.stderrText)")
        #expect(failed.stderrText.contains("Connection refused"), "\(failed.stderrText)")
        attachLogsOnFailure(server, failed.status == 104)
    }

    /// Without an OpenSSH client on PATH, an entry is used as written with OpenSSH's defaults, as before
    /// sshcc asked `ssh -G`.
    @Test func withoutAnOpenSSHClientTheEntryIsUsedAsWritten() throws {
        let server = try SSHDServer()
        let bin = server.directory.path + "/bin-without-ssh"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // The compiler and its assembler (for the local reference compile), and no ssh.
        for tool in ["gcc", "as"] {
            try FileManager.default.createSymbolicLink(
                atPath: bin + "/" + tool, withDestinationPath: try Command.which(tool))
        }
        let environment = server.clientEnvironment(["PATH": bin])
        let result = try Self.compilesRemotely(server, environment)
        #expect(result.status == 0, "\(result.stderrText)")
        let doctor = try Command.run(
            Products.sshcc, ["doctor"], environment: environment, directory: server.directory.path)
        #expect(doctor.stdoutText.contains("(sshcc's defaults (no OpenSSH client installed)"), "\(doctor.stdoutText)")
        #expect(doctor.status == 0, "\(doctor.stdoutText)")
    }
}
