// Host certificates, the way organisations run SSH: the server presents a certificate for its host key
// (HostCertificate), and known_hosts trusts only the CA (`@cert-authority`). OpenSSH's `ssh` is the control
// in each case — it accepts exactly the certificates sshcc accepts — and every refusal sends nothing.

import Foundation
import TestSupport
import Testing

@Suite struct HostCertificateTests {
    struct Setup {
        let server: SSHDServer
        let keys: TemporaryDirectory

        init() throws {
            keys = try TemporaryDirectory("sshcc-host-ca")
            for name in ["ca", "other-ca"] {
                try Command.check(
                    "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", keys.path + "/" + name])
            }
            server = try SSHDServer()
            let certificates = SSHDServer.hostKeyTypes.map {
                "HostCertificate \(server.directory.path)/host_\($0)-cert.pub\n"
            }
            try (try String(contentsOfFile: server.sshdConfig, encoding: .utf8) + certificates.joined())
                .write(toFile: server.sshdConfig, atomically: true, encoding: .utf8)
        }

        /// Signs the server's host key of `type` with `ca` for `principals` and `validity`, and restarts sshd.
        func certify(
            ca: String = "ca", principals: String = "127.0.0.1", validity: String = "-5m:+1h", type: String = "ed25519"
        ) throws {
            server.stop()
            try Command.check(
                "ssh-keygen",
                [
                    "-q", "-s", keys.path + "/" + ca, "-h", "-I", "build-host", "-n", principals, "-V", validity, "-z",
                    "7",
                    server.directory.path + "/host_ed25519.pub",
                ])
            try server.restart()
        }

        /// known_hosts trusting the CA (and `extra` lines), nothing else.
        func trustCA(_ extra: String = "") throws {
            let ca = try String(contentsOfFile: keys.path + "/ca.pub", encoding: .utf8)
                .split(separator: " ").prefix(2).joined(separator: " ")
            try "@cert-authority [127.0.0.1]:\(server.port) \(ca)\n\(extra)"
                .write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        }

        var caKey: String {
            get throws {
                try String(contentsOfFile: keys.path + "/ca.pub", encoding: .utf8)
                    .split(separator: " ").prefix(2).joined(separator: " ")
            }
        }

        func ssh() throws -> CommandResult {
            try OpenSSHClientTests.ssh(
                server,
                [
                    "-i", server.userKey, "-p", String(server.port), "-o", "UserKnownHostsFile=\(server.knownHosts)",
                    "-o", "StrictHostKeyChecking=yes", "127.0.0.1",
                ])
        }

        func sshcc() throws -> CommandResult {
            let project = try Fixtures.project()
            defer { project.stopMuxDaemon() }
            return try Fixtures.sshcc(
                OpenSSHClientTests.compile, in: project.path,
                environment: server.clientEnvironment(["SSHCC_FALLBACK": "0"]))
        }
    }

    @Test func aCertifiedHostIsTrustedThroughItsCA() throws {
        let setup = try Setup()
        try setup.certify()
        try setup.trustCA()
        let control = try setup.ssh()
        #expect(control.status == 0, "\(control.stderrText)")
        let result = try OpenSSHClientTests.compilesRemotely(setup.server, setup.server.clientEnvironment())
        #expect(result.status == 0, "\(result.stderrText)")
        attachLogsOnFailure(setup.server, result.status == 0)
    }

    /// Each way a certificate can fail to vouch for the host: OpenSSH refuses it, and so does sshcc, with the
    /// reason, before any login.
    @Test(arguments: [
        ("another CA", "other-ca", "127.0.0.1", "-5m:+1h", "", "its CA is not an @cert-authority for this host"),
        ("another host", "ca", "build7.example.org", "-5m:+1h", "", "not 127.0.0.1"),
        ("expired", "ca", "127.0.0.1", "20200101:20200102", "", "it expired (valid until 2020-01-02"),
        ("not yet valid", "ca", "127.0.0.1", "+1d:+2d", "", "it is not valid yet"),
        ("revoked CA", "ca", "127.0.0.1", "-5m:+1h", "revoked", "its CA key is marked @revoked"),
    ])
    func aCertificateThatDoesNotVouchIsRefused(
        _ label: String, _ ca: String, _ principals: String, _ validity: String, _ revoke: String, _ reason: String
    ) throws {
        let setup = try Setup()
        try setup.certify(ca: ca, principals: principals, validity: validity)
        try setup.trustCA(revoke.isEmpty ? "" : "@revoked * \(try setup.caKey)\n")
        let control = try setup.ssh()
        #expect(control.status != 0, "\(label): ssh accepted it")
        let logins = setup.server.logins
        let result = try setup.sshcc()
        #expect(result.status == 106 || result.status == 105, "\(label): \(result.stderrText)")
        #expect(result.stderrText.contains(reason), "\(label): \(result.stderrText)")
        #expect(setup.server.logins == logins, "\(label): nothing may be sent")
    }

    /// Only the server's ECDSA key is certified: sshcc asks for that type (OpenSSH asks for the certificate);
    /// its preferred ed25519 key has no certificate and would be refused.
    @Test func theCertifiedKeyTypeIsAskedFor() throws {
        let setup = try Setup()
        try setup.certify(type: "ecdsa")
        try setup.trustCA()
        let control = try setup.ssh()
        #expect(control.status == 0, "\(control.stderrText)")
        let result = try OpenSSHClientTests.compilesRemotely(setup.server, setup.server.clientEnvironment())
        #expect(result.status == 0, "\(result.stderrText)")
    }

    /// A server with no certificate for a host known only through a CA is refused, saying so.
    @Test func noCertificateIsRefused() throws {
        let setup = try Setup()
        try setup.trustCA()
        setup.server.stop()
        try setup.server.restart()
        let control = try setup.ssh()
        #expect(control.status != 0)
        let result = try setup.sshcc()
        #expect(result.status == 105, "\(result.stderrText)")
        #expect(result.stderrText.contains("presented no certificate for its key"), "\(result.stderrText)")
    }
}
