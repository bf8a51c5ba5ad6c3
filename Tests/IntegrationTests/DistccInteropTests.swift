// Interoperability with Debian's distcc 3.4, both ways: sshcc's client codec completes a job against a
// stock `distccd --inetd`, and a stock `distcc` client in SSH mode completes jobs against sshccd.

import DistccWire
import Foundation
import POSIXSupport
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct DistccInteropTests {
    /// Our request over a pipe pair to `distccd --inetd` (which drops to the distccd user when run as root).
    @Test func clientCodecCompletesAJobAgainstStockDistccd() throws {
        let project = try Fixtures.project()
        let distccd = try Command.which("distccd")
        let preprocessed = try Command.check("gcc", ["-Iinclude", "-E", "src/prog.c"], directory: project.path).stdout
        let request = Request(
            arguments: ["gcc", "-O2", "-c", "src/prog.c", "-o", "prog.o"], source: Array(preprocessed))

        let toServer = try FileDescriptorIO.pipe(), fromServer = try FileDescriptorIO.pipe()
        // distccd drops to its own user when started as root: it cannot write into the private test directory.
        let pid = try Subprocess.spawn(
            executable: distccd, arguments: [distccd, "--inetd", "--log-stderr", "--log-level", "error"],
            stdin: toServer.read, stdout: fromServer.write)
        toServer.read.close()
        fromServer.write.close()
        let reply: Reply
        do {
            // The stream owns our ends: distccd sees the end of its input when the exchange is over.
            let stream = FileDescriptorStream(input: fromServer.read, output: toServer.write)
            reply = try JobExchange.run(request, over: stream)
        }
        _ = try Subprocess.wait(pid)

        #expect(reply.exitCode == 0, "\(String(decoding: reply.stderr, as: UTF8.self))")
        try Command.check(
            "gcc", ["-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-local/prog.o"], directory: project.path)
        #expect(reply.object == Array(try project.read("out-local/prog.o")))
    }

    /// A DISTCC_SSH stand-in for ssh: it ignores host and command and runs sshccd, as sshd would.
    static func fakeSSH(_ directory: TemporaryDirectory) throws -> String {
        let script = try directory.write(
            "fake-ssh",
            "#!/bin/sh\nexec \(Products.sshccd) --config none --log \(directory.path)/sshccd.log --tmpdir \(directory.path)/jobs --objects none\n"
        )
        chmod(script, 0o755)
        try FileManager.default.createDirectory(atPath: directory.path + "/jobs", withIntermediateDirectories: true)
        return script
    }

    static func distccEnvironment(_ directory: TemporaryDirectory, ssh: String) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"]!, "HOME": directory.path,
            "DISTCC_HOSTS": "@compilehost",
            "DISTCC_SSH": ssh, "DISTCC_FALLBACK": "0", "DISTCC_SKIP_LOCAL_RETRY": "1", "LANG": "C",
        ]
    }

    @Test func stockDistccClientCompletesJobsAgainstSshccd() throws {
        let project = try Fixtures.project()
        let environment = Self.distccEnvironment(project, ssh: try Self.fakeSSH(project))
        for (compiler, source) in [("gcc", "prog.c"), ("g++", "prog.cpp")] {
            let object = "\(source).o"
            let result = try Command.run(
                "distcc",
                [compiler, "-O2", "-Iinclude", "-c", "src/\(source)", "-o", project.path + "/out-remote/\(object)"],
                environment: environment, directory: project.path)
            #expect(result.status == 0, "\(result.stderrText)")
            try Command.check(
                compiler, ["-O2", "-Iinclude", "-c", "src/\(source)", "-o", "out-local/\(object)"],
                directory: project.path)
            #expect(try project.read("out-remote/\(object)") == project.read("out-local/\(object)"))
        }
        let log = String(decoding: try project.read("sshccd.log"), as: UTF8.self)
        #expect(log.components(separatedBy: "] info: job ").count - 1 == 2, "sshccd must have compiled both:\n\(log)")
        #expect(log.contains("x86_64-linux-gnu-gcc"), "stock distcc sends the target-triple name")
        // The absolute -o the client sent was never written by the server.
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path + "/jobs").isEmpty)
    }

    /// Stock distcc sends DIST/ARGC/ARGV before preprocessing ends and closes when it fails: a quiet abort.
    @Test func stockDistccAbortingMidRequestLeavesNothingBehind() throws {
        let project = try Fixtures.project()
        try project.write("src/fails.c", "#error deliberately broken\nint x;\n")
        let environment = Self.distccEnvironment(project, ssh: try Self.fakeSSH(project))
        let result = try Command.run(
            "distcc", ["gcc", "-c", "src/fails.c", "-o", "out-remote/fails.o"], environment: environment,
            directory: project.path)
        #expect(result.status != 0)
        #expect(result.stderrText.contains("#error deliberately broken"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path + "/jobs").isEmpty)
        let log = String(decoding: (try? project.read("sshccd.log")) ?? Data(), as: UTF8.self)
        #expect(!log.contains("] info: job "))
    }

    /// The documented two-line setup, with Debian's distcc client and a real sshd: the user's key is
    /// restricted to sshccd by a forced command, so `ssh host distccd --inetd` (what `DISTCC_HOSTS=@host`
    /// runs) reaches sshccd.
    @Test func stockDistccClientOverRealSshdReachesSshccdThroughAForcedCommand() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let key = try String(contentsOfFile: server.userKey + ".pub", encoding: .utf8)
        try server.directory.write(
            "authorized_keys",
            "restrict,command=\"\(Products.sshccd) --config none --log \(server.sshccdLog) --cache \(server.directory.path)/sshccd-cache --objects none\" \(key)"
        )
        let config = try project.write(
            "ssh_config",
            """
            Host 127.0.0.1
                Port \(server.port)
                IdentityFile \(server.userKey)
                UserKnownHostsFile \(server.knownHosts)
                StrictHostKeyChecking yes
                BatchMode yes

            """)
        let ssh = try project.write("ssh", "#!/bin/sh\nexec ssh -F \(config) \"$@\"\n")
        chmod(ssh, 0o755)
        var environment = Self.distccEnvironment(project, ssh: ssh)
        environment["DISTCC_HOSTS"] = "@127.0.0.1"
        for (compiler, source) in [("gcc", "prog.c"), ("g++", "prog.cpp")] {
            let arguments = ["-O2", "-Iinclude", "-c", "src/\(source)", "-o"]
            let result = try Command.run(
                "distcc", [compiler] + arguments + ["out-remote/\(source).o"], environment: environment,
                directory: project.path)
            #expect(result.status == 0, "\(result.stderrText)")
            try Command.check(compiler, arguments + ["out-local/\(source).o"], directory: project.path)
            #expect(try project.read("out-remote/\(source).o") == project.read("out-local/\(source).o"))
        }
        #expect(server.jobsServed == 2, "sshccd compiled both jobs")
        // The same key can do nothing else: a shell command also just meets sshccd.
        let shell = try Command.run(ssh, ["127.0.0.1", "id"], environment: environment)
        #expect(!shell.stdoutText.contains("uid="))
        attachLogsOnFailure(server, server.jobsServed == 2)
    }

    /// A `,distccd` host: the server has only Debian's distccd; sshcc runs `distccd --inetd` on exec channels
    /// of its one connection, one job per channel.
    @Test func distccdHostOptionRunsStockDistccdOnExecChannels() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment([
            "SSHCC_HOSTS": server.hostSpec + "/2,distccd", "SSHCC_FALLBACK": "0",
        ])
        let jobs: [(compiler: String, flags: [String], source: String)] = [
            // No -g: distccd's gcc, without sshcc's plugin, records -fdirectives-only in a -g object's producer.
            ("gcc", ["-O2", "-DNDEBUG"], "prog.c"), ("g++", ["-O2"], "prog.cpp"),
            ("g++", ["-O1", "-x", "c++"], "plain.c"),
            ("gcc", ["-O2"], "plain.c"),
        ]
        for (index, job) in jobs.enumerated() {
            let arguments = [job.compiler] + job.flags + ["-Iinclude", "-c", "src/\(job.source)", "-o"]
            let result = try Fixtures.sshcc(
                arguments + ["out-remote/\(index).o"], in: project.path, environment: environment)
            #expect(result.status == 0, "\(result.stderrText)")
            try Fixtures.local(arguments + ["out-local/\(index).o"], in: project.path, environment: environment)
            #expect(try project.read("out-remote/\(index).o") == project.read("out-local/\(index).o"), "job \(index)")
        }
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
        #expect(status.contains("jobs \(jobs.count) done, 0 failed"), "\(status)")
        #expect(server.jobsServed == 0, "sshccd was not involved")
        #expect(server.logins == 1, "one connection carried every channel")
    }
}
