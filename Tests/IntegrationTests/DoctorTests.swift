// `sshcc doctor` against real servers: each step reported with what it found (the known_hosts line, the
// key that logged in, the protocols and compilers sshccd answers), and the first broken step named with
// the fix a user needs — an unknown host key, a server without the subsystem, an older sshccd.

import Foundation
import TestSupport
import Testing

@Suite struct DoctorTests {
    static func doctor(_ server: SSHDServer, _ arguments: [String] = [], _ extra: [String: String] = [:]) throws
        -> CommandResult
    {
        try Command.run(
            Products.sshcc, ["doctor"] + arguments, environment: server.clientEnvironment(extra),
            directory: server.directory.path)
    }

    @Test func aHealthyHostPassesEveryStep() throws {
        let server = try SSHDServer()
        let result = try Self.doctor(server)
        let out = result.stdoutText
        #expect(result.status == 0, "\(out)\(result.stderrText)")
        #expect(out.contains("host key   ok     ssh-ed25519 SHA256:"), "\(out)")
        #expect(out.contains("recorded at \(server.knownHosts):1"), "\(out)")
        #expect(out.contains("login      ok     with \(server.userKey) (ssh-ed25519)"), "\(out)")
        #expect(out.contains("protocols  ok     1 (plain), 2 (lzo), 4 (zstd), 5 (zstd, source streamed)"), "\(out)")
        #expect(out.contains("gcc: accepted") && out.contains("g++: accepted"), "\(out)")
        #expect(out.contains("latency    ok     round trip"), "\(out)")
        #expect(out.contains("every host is ready"))
        // Real jobs, on the server: the subsystem one, four protocols, the compilers that exist, one timed.
        #expect(server.jobsServed >= 6)
    }

    @Test func anUnknownHostKeyIsTheStepThatFails() throws {
        let server = try SSHDServer()
        try "".write(toFile: server.knownHosts, atomically: true, encoding: .utf8)
        let result = try Self.doctor(server)
        #expect(result.status == 1)
        #expect(result.stdoutText.contains("connect    ok"), "\(result.stdoutText)")
        #expect(result.stdoutText.contains("host key   FAILED host key for [127.0.0.1]:\(server.port) is not known"))
        #expect(
            result.stdoutText.contains("ssh-keyscan -p \(server.port) -t ed25519 127.0.0.1 >> \(server.knownHosts)"))
        #expect(!result.stdoutText.contains("login "))
        #expect(server.logins == 0)
    }

    @Test func aServerWithoutTheSubsystemGetsTheSshdConfigLine() throws {
        let server = try SSHDServer(subsystem: false)
        let result = try Self.doctor(server)
        #expect(result.status == 1)
        #expect(result.stdoutText.contains("login      ok"), "\(result.stdoutText)")
        #expect(result.stdoutText.contains("subsystem  FAILED \(server.hostSpec) has no 'sshcc' subsystem"))
        #expect(result.stdoutText.contains("Subsystem sshcc /usr/local/bin/sshccd"))
    }

    /// An sshccd that answers fewer protocols, and a host named on the command line beside a dead one.
    @Test func olderProtocolsAndSeveralHosts() throws {
        let server = try SSHDServer(sshccdOptions: ["--protocols", "1,2"])
        let closed = SSHDServer.closedPort()
        let result = try Self.doctor(server, [server.hostSpec, "127.0.0.1:\(closed)"])
        #expect(result.status == 1)
        let out = result.stdoutText
        #expect(out.contains("protocols  ok     1 (plain), 2 (lzo)\n"), "\(out)")
        #expect(out.contains("not answered: 4 (zstd), 5 (zstd, source streamed)"), "\(out)")
        #expect(out.contains("127.0.0.1:\(closed)\n"))
        #expect(out.contains("connect    FAILED cannot reach 127.0.0.1:\(closed)"), "\(out)")
        #expect(out.contains("ssh -v -p \(closed) 127.0.0.1 true"))
    }
}
