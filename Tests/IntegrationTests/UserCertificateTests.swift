// User certificates, the way organisations run SSH: the server trusts a user CA (TrustedUserCAKeys) and
// no authorized key, the client holds a key and its certificate — beside it (`KEY-cert.pub`), named by
// CertificateFile, or in ssh-agent. OpenSSH's `ssh` is the control for each setup; the object is checked
// against a local compile and sshd's log shows the certificate was what let the user in.
//
// libssh2 1.10 signs correctly with ECDSA certificates only: an ed25519 certificate is never offered (it
// would spend one of the server's MaxAuthTries on a signature sshd rejects) and the failure says why.

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct UserCertificateTests {
    /// A server that trusts only certificates signed by a fresh user CA; keys in `keys`.
    struct Setup {
        let server: SSHDServer
        let keys: TemporaryDirectory
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)

        init() throws {
            keys = try TemporaryDirectory("sshcc-certs")
            try Command.check(
                "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "user-ca", "-f", keys.path + "/ca"])
            server = try SSHDServer(extraConfig: ["TrustedUserCAKeys \(keys.path)/ca.pub"])
            try "".write(toFile: server.directory.path + "/authorized_keys", atomically: true, encoding: .utf8)
        }

        /// A key of `type` and, unless `sign` is false, its certificate for the user (at `KEY-cert.pub`).
        func key(_ name: String, type: String, sign: Bool = true) throws -> String {
            let path = keys.path + "/" + name
            try Command.check("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", path])
            if sign {
                try Command.check(
                    "ssh-keygen", ["-q", "-s", keys.path + "/ca", "-I", "\(name)-id", "-n", user, path + ".pub"])
            }
            return path
        }

        /// A config entry `build1` for the server with `lines` added.
        func configure(_ lines: [String]) throws {
            let text =
                ([
                    "Host build1", "  HostName 127.0.0.1", "  Port \(server.port)", "  User \(user)",
                    "  UserKnownHostsFile \(server.knownHosts)",
                ] + lines.map { "  " + $0 }).joined(separator: "\n")
            try (text + "\n").write(toFile: server.sshConfig, atomically: true, encoding: .utf8)
        }

        func environment(agent: String? = nil) -> [String: String] {
            var environment = server.clientEnvironment(["SSHCC_HOSTS": "build1"])
            environment.removeValue(forKey: "SSHCC_IDENTITY")
            environment["SSH_AUTH_SOCK"] = agent
            return environment
        }

        /// Whether sshd's log says it accepted the certificate with this ID.
        func acceptedCertificate(_ id: String) -> Bool {
            ((try? String(contentsOfFile: server.sshdLog, encoding: .utf8)) ?? "")
                .contains("Accepted publickey for \(user)") && server.logs.contains("ID \(id)-id")
        }
    }

    /// Control: the plain key, with no authorized_keys entry, does not get in.
    @Test func theKeyAloneIsRefusedAndItsCertificateBesideItLogsIn() throws {
        let setup = try Setup()
        let key = try setup.key("id_ecdsa", type: "ecdsa")
        try FileManager.default.moveItem(atPath: key + "-cert.pub", toPath: key + "-cert.pub.away")
        try setup.configure(["IdentityFile \(key)", "IdentitiesOnly yes"])
        let refused = try OpenSSHClientTests.ssh(setup.server, ["build1"])
        #expect(refused.status != 0)

        try FileManager.default.moveItem(atPath: key + "-cert.pub.away", toPath: key + "-cert.pub")
        let control = try OpenSSHClientTests.ssh(setup.server, ["build1"])
        #expect(control.status == 0, "\(control.stderrText)")
        let result = try OpenSSHClientTests.compilesRemotely(setup.server, setup.environment())
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(setup.acceptedCertificate("id_ecdsa"))
        attachLogsOnFailure(setup.server, result.status == 0)
    }

    /// CertificateFile names a certificate elsewhere: it is paired with the key it certifies.
    @Test func certificateFileIsPairedWithItsKey() throws {
        let setup = try Setup()
        let key = try setup.key("work", type: "ecdsa")
        let elsewhere = setup.keys.path + "/issued-by-ca.pub"
        try FileManager.default.moveItem(atPath: key + "-cert.pub", toPath: elsewhere)
        let other = try setup.key("unrelated", type: "ecdsa")
        try FileManager.default.removeItem(atPath: other + "-cert.pub")
        try setup.configure(["IdentityFile \(other)", "IdentityFile \(key)", "CertificateFile \(elsewhere)"])
        let control = try OpenSSHClientTests.ssh(setup.server, ["build1"])
        #expect(control.status == 0, "\(control.stderrText)")
        let result = try OpenSSHClientTests.compilesRemotely(setup.server, setup.environment())
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(setup.acceptedCertificate("work"))
    }

    /// ssh-add loads a key's certificate with it; with IdentitiesOnly, the agent's certificate counts as
    /// the configured key's.
    @Test func aCertificateInTheAgent() throws {
        let setup = try Setup()
        let key = try setup.key("agent_ecdsa", type: "ecdsa")
        let agent = try SSHAgent(in: setup.keys)
        try agent.add([key])
        // Only the public halves stay on disk: the login can only go through the agent.
        try FileManager.default.removeItem(atPath: key)
        try setup.configure(["IdentityFile \(key)", "IdentitiesOnly yes"])
        let control = try OpenSSHClientTests.ssh(setup.server, ["build1"], agent: agent.socket)
        #expect(control.status == 0, "\(control.stderrText)")
        let result = try OpenSSHClientTests.compilesRemotely(setup.server, setup.environment(agent: agent.socket))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(setup.acceptedCertificate("agent_ecdsa"))
        setup.server.directory.stopMuxDaemon()
    }

    /// An ed25519 certificate works for `ssh` but not through this libssh2: the failure says so and what to
    /// do, and no bad signature is offered (sshd logs no failed certificate).
    @Test(arguments: [false, true])
    func anEd25519CertificateIsExplainedNotOffered(throughAgent: Bool) throws {
        let setup = try Setup()
        let key = try setup.key("id_ed25519", type: "ed25519")
        var agentSocket: String?
        var agent: SSHAgent?
        if throughAgent {
            agent = try SSHAgent(in: setup.keys)
            try agent?.add([key])
            agentSocket = agent?.socket
        }
        try setup.configure(["IdentityFile \(key)", "IdentitiesOnly yes"])
        let control = try OpenSSHClientTests.ssh(setup.server, ["build1"], agent: agentSocket)
        #expect(control.status == 0, "\(control.stderrText)")
        let before = setup.server.logs.components(separatedBy: "Accepted certificate ID").count

        let project = try Fixtures.project()
        var environment = setup.environment(agent: agentSocket)
        environment["SSHCC_FALLBACK"] = "0"
        let result = try Fixtures.sshcc(OpenSSHClientTests.compile, in: project.path, environment: environment)
        #expect(result.status != 0)
        #expect(result.stderrText.contains("ssh-ed25519-cert-v01@openssh.com certificate"), "\(result.stderrText)")
        #expect(result.stderrText.contains("ECDSA"), "\(result.stderrText)")
        // sshd logs "Accepted certificate ID" when a certificate is offered; none was.
        #expect(setup.server.logs.components(separatedBy: "Accepted certificate ID").count == before)
        project.stopMuxDaemon()
        _ = agent
    }
}
