// Toolchain identity through real sshd and sshccd instances: a server whose gcc is another Debian gcc
// (gcc-11 as `gcc` on its PATH) or whose assembler is another file gets no job — the job goes to the host
// whose toolchain matches, or compiles locally — and the build is told once per host; that server's gcc
// really would have made a different object.

import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct ToolchainIdentityTests {
    /// A directory for a server's PATH holding `gcc` as gcc-11, or an `as` that is a different file.
    static func otherToolchain(_ kind: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("toolchain-\(kind)")
        switch kind {
        case "gcc-11":
            try FileManager.default.createSymbolicLink(
                atPath: directory.path + "/gcc", withDestinationPath: "/usr/bin/gcc-11")
        default:
            let script = try directory.write("as", "#!/bin/sh\n# another assembler build\nexec /usr/bin/as \"$@\"\n")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        return directory
    }

    @Test(arguments: ["gcc-11", "assembler"])
    func aServerWithAnotherToolchainGetsNoJob(kind: String) throws {
        let other = try Self.otherToolchain(kind)
        let differing = try SSHDServer(extraConfig: ["SetEnv PATH=\(other.path):/usr/bin:/bin"])
        let matching = try SSHDServer()
        try matching.trust(clientOf: differing)
        let project = try Fixtures.project()
        let environment = differing.clientEnvironment([
            "SSHCC_HOSTS": "\(differing.hostSpec)/4 \(matching.hostSpec)/1", "SSHCC_FALLBACK": "0",
        ])
        try Fixtures.local(
            ["gcc", "-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-local/p.o"], in: project.path,
            environment: environment)
        var messages: [String] = []
        for index in 0..<3 {
            let run = try Fixtures.sshcc(
                ["gcc", "-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/\(index).o"], in: project.path,
                environment: environment)
            #expect(run.status == 0, "\(run.stderrText)")
            #expect(try project.read("out-remote/\(index).o") == project.read("out-local/p.o"))
            messages.append(run.stderrText)
        }
        #expect(differing.jobsServed == 0, "no job compiled on the server whose toolchain differs")
        #expect(matching.jobsServed == 3)
        // Told once, naming the host and both toolchains.
        #expect(messages[0].contains(differing.hostSpec) && messages[0].contains("toolchain differs"), "\(messages[0])")
        #expect(messages[1...].allSatisfy { !$0.contains("toolchain differs") }, "\(messages)")
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
        #expect(status.contains("toolchains: gcc DIFFERS"), "\(status)")
        #expect(status.contains("toolchains: gcc same as here"), "\(status)")
        if kind == "gcc-11" {
            #expect(messages[0].contains("gcc 11."), "\(messages[0])")
            // What that server's compiler would have made: another object.
            let old = try Command.run(
                "/usr/bin/gcc-11", ["-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-local/p11.o"],
                directory: project.path)
            #expect(old.status == 0)
            #expect(try project.read("out-local/p11.o") != project.read("out-local/p.o"))
        }
        attachLogsOnFailure(differing, differing.jobsServed == 0)
    }

    /// Only a differing host: the job compiles locally (quietly after the first word), and under
    /// SSHCC_FALLBACK=0 fails with its own exit status (115) instead.
    @Test func onlyDifferingHostsMeanALocalCompile() throws {
        let other = try Self.otherToolchain("gcc-11")
        let server = try SSHDServer(extraConfig: ["SetEnv PATH=\(other.path):/usr/bin:/bin"])
        let project = try Fixtures.project()
        let environment = server.clientEnvironment([:])
        try Fixtures.local(
            ["gcc", "-O2", "-c", "src/plain.c", "-o", "out-local/p.o"], in: project.path,
            environment: environment)
        let first = try Fixtures.sshcc(
            ["gcc", "-O2", "-c", "src/plain.c", "-o", "out-remote/p.o"], in: project.path, environment: environment)
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(first.stderrText.contains("toolchain differs"), "\(first.stderrText)")
        #expect(try project.read("out-remote/p.o") == project.read("out-local/p.o"))
        let second = try Fixtures.sshcc(
            ["gcc", "-O2", "-c", "src/plain.c", "-o", "out-remote/q.o"], in: project.path, environment: environment)
        #expect(second.status == 0 && second.stderrText.isEmpty, "\(second.stderrText)")
        let strict = try Fixtures.sshcc(
            ["gcc", "-O2", "-c", "src/plain.c", "-o", "out-remote/r.o"], in: project.path,
            environment: environment.merging(["SSHCC_FALLBACK": "0"]) { $1 })
        #expect(strict.status == 115, "\(strict.stderrText)")
        #expect(strict.stderrText.contains("no compile host has this machine's gcc"), "\(strict.stderrText)")
        #expect(server.jobsServed == 0)
        let doctor = try Fixtures.sshcc(["doctor"], in: project.path, environment: environment)
        #expect(
            doctor.stdoutText.contains("gcc: sshccd: toolchain differs: 'gcc' here is gcc 11."), "\(doctor.stdoutText)")
        #expect(doctor.stdoutText.contains("g++: accepted, the same toolchain as here"), "\(doctor.stdoutText)")
    }
}
