// Compile-only keys through a real sshd: a key made by `sshcc --keygen` and authorized with the line
// `sshcc --authorize` prints compiles, and can do nothing else — no command, no forwarding, no other subsystem.

import Foundation
import TestSupport
import Testing

@Suite struct CompileOnlyKeyTests {
    /// A server whose only authorized key is a fresh compile-only key; returns the key's path.
    static func restrictedServer(_ work: TemporaryDirectory) throws -> (SSHDServer, key: String) {
        let server = try SSHDServer()
        let key = work.path + "/keys/compile_ed25519"
        let made = try Command.run(Products.sshcc, ["--keygen", key], environment: ["HOME": work.path])
        #expect(made.status == 0, "\(made.stderrText)")
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "the private key is owner-only")
        let authorize = try Command.run(
            Products.sshcc,
            [
                "--authorize", key + ".pub", "--sshccd",
                "\(Products.sshccd) --config none --log \(server.sshccdLog) --cache \(server.directory.path)/sshccd-cache",
            ])
        let line = try #require(authorize.stdoutText.split(separator: "\n").first { $0.hasPrefix("restrict,command=") })
        try server.directory.write("authorized_keys", line + "\n")
        return (server, key)
    }

    static func ssh(_ server: SSHDServer, key: String, _ arguments: [String]) throws -> CommandResult {
        try Command.run(
            "ssh",
            [
                "-i", key, "-p", String(server.port), "-o", "UserKnownHostsFile=\(server.knownHosts)",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", "ConnectTimeout=10",
            ] + arguments)
    }

    @Test func restrictedKeyCompilesAndDoesNothingElse() throws {
        let project = try Fixtures.project()
        let (server, key) = try Self.restrictedServer(project)
        let environment = server.clientEnvironment(["SSHCC_IDENTITY": key, "SSHCC_FALLBACK": "0"])
        let compile = try Fixtures.sshcc(
            ["gcc", "-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/p.o"], in: project.path,
            environment: environment)
        #expect(compile.status == 0, "\(compile.stderrText)")
        #expect(server.jobsServed == 1)

        // A command: sshd runs sshccd instead, which reads no request on an empty input and exits.
        let command = try Self.ssh(server, key: key, ["127.0.0.1", "id; echo SHELL-RAN"])
        #expect(!command.stdoutText.contains("uid=") && !command.stdoutText.contains("SHELL-RAN"))
        // Port forwarding (a direct-tcpip channel, as -L and -W open): refused by `restrict`.
        let forward = try Self.ssh(server, key: key, ["-W", "127.0.0.1:\(server.port)", "127.0.0.1"])
        #expect(forward.status != 0)
        #expect(forward.stderrText.contains("prohibited"), "\(forward.stderrText)")
        // Another subsystem: sftp gets sshccd, which does not speak it.
        let sftp = try Command.run(
            "sftp",
            [
                "-b", "-", "-i", key, "-P", String(server.port), "-o", "UserKnownHostsFile=\(server.knownHosts)",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "127.0.0.1",
            ], input: Data("ls /\n".utf8))
        #expect(sftp.status != 0)
        #expect(!sftp.stdoutText.contains("bin"), "\(sftp.stdoutText)")
        #expect(server.jobsServed == 1, "nothing else reached the compiler")
        attachLogsOnFailure(server, compile.status == 0)
    }

    @Test func helpersRefuseToOverwriteAndCheckTheirInput() throws {
        let work = try TemporaryDirectory("sshcc-keys")
        let key = work.path + "/k"
        #expect(try Command.run(Products.sshcc, ["--keygen", key]).status == 0)
        let again = try Command.run(Products.sshcc, ["--keygen", key])
        #expect(again.status != 0)
        #expect(again.stderrText.contains("not overwriting"))
        try work.write("bad.pub", "hello world\n")
        #expect(try Command.run(Products.sshcc, ["--authorize", work.path + "/bad.pub"]).status != 0)
        let quoted = try Command.run(Products.sshcc, ["--authorize", key + ".pub", "--sshccd", "x\" y"])
        #expect(quoted.status != 0, "a quote would end the forced command early")
    }

    /// The administrator can tell keys apart: each names its user and machine and the day it was made. An RSA
    /// key gets its line, and a warning that it cannot log in.
    @Test func keysSayWhoseTheyAre() throws {
        let work = try TemporaryDirectory("sshcc-keys")
        let made = try Command.run(Products.sshcc, ["--keygen", work.path + "/k"])
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        let line = try #require(made.stdoutText.split(separator: "\n").first { $0.hasPrefix("restrict,") })
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(line.contains(" sshcc \(user)@\(hostName) 20"), "\(line)")
        try Command.check("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", work.path + "/rsa"])
        let rsa = try Command.run(Products.sshcc, ["--authorize", work.path + "/rsa.pub"])
        #expect(rsa.status == 0 && rsa.stdoutText.contains("restrict,command="))
        #expect(rsa.stderrText.contains("is an RSA key: sshcc cannot log in with it"), "\(rsa.stderrText)")
    }
}
