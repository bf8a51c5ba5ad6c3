// The mux daemon end to end, through real sshd instances (two on different loopback ports for the
// multi-host cases), real gcc and the built sshcc: one login per host, many concurrent wrappers, a host
// killed mid-build, a host down at start, the daemon killed with SIGKILL, 32 wrappers racing to start it.

import Foundation
import MuxCore
import POSIXSupport
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct MuxDaemonTests {
    /// A project of `count` distinct C files (with a shared header, so preprocessing matters) and the
    /// objects a local gcc makes of them, as the reference.
    static func buildProject(_ count: Int, bodyLines: Int = 20) throws -> TemporaryDirectory {
        let project = try TemporaryDirectory("sshcc-build")
        try project.write("include/util.h", Fixtures.header)
        for index in 0..<count {
            var body = ""
            for line in 0..<bodyLines {
                body += "    acc = acc * \(line + 3) + SQUARE(x + \(index)) - (acc >> \(line % 7 + 1));\n"
            }
            try project.write(
                "src/f\(index).c",
                "#include \"util.h\"\nint f\(index)(int x) {\n    int acc = \(index);\n\(body)    return acc;\n}\n")
        }
        try Command.check(
            "bash",
            [
                "-c",
                "mkdir -p local && for f in src/*.c; do gcc -O2 -Iinclude -c $f -o local/$(basename $f .c).o; done",
            ],
            directory: project.path)
        return project
    }

    /// Compiles every file of the project through sshcc, `parallel` wrappers at a time (as make -jN).
    static func build(_ project: TemporaryDirectory, parallel: Int, environment: [String: String]) throws
        -> CommandResult
    {
        let script = """
            mkdir -p remote
            ls src/*.c | xargs -P \(parallel) -I{} sh -c 'f={}; b=${f#src/}; exec "$SSHCC" gcc -O2 -Iinclude -c $f -o remote/${b%.c}.o'
            """
        var environment = environment
        environment["SSHCC"] = Products.sshcc
        environment["SSHCC_DIR"] = project.muxDirectory
        return try Command.run("bash", ["-c", script], environment: environment, directory: project.path)
    }

    /// The files whose remote object differs from (or lacks) the local reference.
    static func mismatches(_ project: TemporaryDirectory, count: Int) -> [String] {
        (0..<count).compactMap { index in
            let local = try? project.read("local/f\(index).o")
            let remote = try? project.read("remote/f\(index).o")
            return local != nil && local == remote ? nil : "f\(index).o"
        }
    }

    static func muxLog(_ project: TemporaryDirectory) -> String {
        (try? String(contentsOfFile: project.muxDirectory + "/mux.log", encoding: .utf8)) ?? ""
    }

    /// Two sshd instances that the first one's client environment reaches both of.
    static func twoHosts(slots: Int = 3) throws -> (SSHDServer, SSHDServer, [String: String]) {
        let a = try SSHDServer()
        let b = try SSHDServer()
        try b.trust(clientOf: a)
        let environment = a.clientEnvironment(["SSHCC_HOSTS": "\(a.hostSpec)/\(slots) \(b.hostSpec)/\(slots)"])
        return (a, b, environment)
    }

    @Test func hundredJobsFromConcurrentWrappersUseOneLoginPerHost() throws {
        let (a, b, environment) = try Self.twoHosts()
        let project = try Self.buildProject(100)
        let result = try Self.build(
            project, parallel: 12, environment: environment.merging(["SSHCC_FALLBACK": "0"]) { $1 })
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(Self.mismatches(project, count: 100) == [])
        #expect(a.logins == 1, "one SSH login to host A for all its jobs")
        #expect(b.logins == 1, "one SSH login to host B for all its jobs")
        // Each job once, and a copy for each straggler raced on a free host (a loaded machine makes some).
        let log = Self.muxLog(project)
        let races = log.components(separatedBy: "a copy races it on").count - 1
        #expect(a.jobsServed + b.jobsServed >= 100 && a.jobsServed + b.jobsServed <= 100 + races, "\(log)")
        #expect(a.jobsServed > 0 && b.jobsServed > 0, "both hosts took jobs: \(a.jobsServed) + \(b.jobsServed)")
        #expect(log.components(separatedBy: "started: pid").count - 1 == 1, "one daemon")
        attachLogsOnFailure(a, result.status == 0)
    }

    @Test func moreSlotsThanMaxSessionsOpensMoreConnections() throws {
        let server = try SSHDServer(extraConfig: ["MaxSessions 2"])
        let project = try Self.buildProject(24)
        let environment = server.clientEnvironment(["SSHCC_HOSTS": "\(server.hostSpec)/5", "SSHCC_FALLBACK": "0"])
        let result = try Self.build(project, parallel: 8, environment: environment)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(Self.mismatches(project, count: 24) == [])
        #expect(server.jobsServed == 24)
        let status = try Command.run(Products.sshcc, ["--status"], environment: ["SSHCC_DIR": project.muxDirectory])
        #expect(status.stdoutText.contains("connections 3, channels 5 open"), "\(status.stdoutText)")
        #expect(status.stdoutText.contains("jobs 24 done, 0 failed"))
        // 5 channels at 2 per connection: 3 connections, each logged in once.
        #expect(server.logins == 3)
        attachLogsOnFailure(server, result.status == 0 && server.logins == 3)
    }

    @Test func aHostKilledMidBuildDoesNotLoseAJob() throws {
        let (a, b, environment) = try Self.twoHosts()
        let project = try Self.buildProject(80, bodyLines: 150)
        let strict = environment.merging(["SSHCC_FALLBACK": "0"]) { $1 }
        let build = Background { try? Self.build(project, parallel: 6, environment: strict) }
        #expect(eventually { a.jobsServed >= 5 })
        a.killAll()
        let servedByAAtKill = a.jobsServed
        let result = build.wait()
        #expect(result?.status == 0, "\(result?.stderrText ?? "no result")")
        #expect(Self.mismatches(project, count: 80) == [])
        #expect(servedByAAtKill < 80, "the kill came mid-build")
        #expect(b.jobsServed >= 80 - servedByAAtKill, "host B took over the rest")
        let status = try Command.run(Products.sshcc, ["--status"], environment: ["SSHCC_DIR": project.muxDirectory])
        // Backed off, or its short backoff over and no job has needed it since.
        let killed = status.stdoutText.split(separator: "\n").first { $0.hasPrefix("\(a.hostSpec)/3: ") } ?? ""
        #expect(killed.contains(": down") || killed.contains(": disconnected"), "\(status.stdoutText)")
        #expect(status.stdoutText.contains("last error: cannot reach \(a.hostSpec)/3"), "\(status.stdoutText)")
        attachLogsOnFailure(b, result?.status == 0)
    }

    @Test func aHostDownAtStartIsSkipped() throws {
        let server = try SSHDServer()
        let down = "127.0.0.1:\(SSHDServer.closedPort())"
        let project = try Self.buildProject(12)
        let environment = server.clientEnvironment([
            "SSHCC_HOSTS": "\(down)/4 \(server.hostSpec)/2", "SSHCC_FALLBACK": "0",
        ])
        let result = try Self.build(project, parallel: 4, environment: environment)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(Self.mismatches(project, count: 12) == [])
        #expect(server.jobsServed == 12)
        // No job waits for a host that has not told its load: none went there, and none says so.
        #expect(!result.stderrText.contains("cannot reach \(down)"), "\(result.stderrText)")
        let status = try Command.run(Products.sshcc, ["--status"], environment: ["SSHCC_DIR": project.muxDirectory])
        #expect(status.stdoutText.contains("last error: cannot reach \(down)"), "\(status.stdoutText)")
    }

    @Test func theDaemonKilledMidBuildIsReplaced() throws {
        let server = try SSHDServer()
        let project = try Self.buildProject(60, bodyLines: 150)
        let environment = server.clientEnvironment(["SSHCC_HOSTS": "\(server.hostSpec)/4"])
        let build = Background { try? Self.build(project, parallel: 6, environment: environment) }
        #expect(eventually { server.jobsServed >= 5 })
        let first = project.muxDaemonPID
        #expect(first != nil)
        if let first { kill(first, SIGKILL) }
        let result = build.wait()
        #expect(result?.status == 0, "\(result?.stderrText ?? "no result")")
        #expect(Self.mismatches(project, count: 60) == [], "every job was retried or compiled locally")

        // The next wrapper finds a new daemon (started by a wrapper that lost the old one, or by itself).
        try FileManager.default.removeItem(atPath: project.path + "/remote/f0.o")
        let again = try Fixtures.sshcc(
            ["gcc", "-O2", "-Iinclude", "-c", "src/f0.c", "-o", "remote/f0.o"], in: project.path,
            environment: environment.merging(["SSHCC_DIR": project.muxDirectory, "SSHCC_FALLBACK": "0"]) { $1 })
        #expect(again.status == 0, "\(again.stderrText)")
        let second = project.muxDaemonPID
        #expect(second != nil && second != first)
        #expect(Self.mismatches(project, count: 60) == [])
    }

    @Test func thirtyTwoWrappersAtOnceStartOneDaemon() throws {
        let server = try SSHDServer()
        let project = try Self.buildProject(32)
        let script = """
            mkdir -p remote
            for i in $(seq 0 31); do "$SSHCC" gcc -O2 -Iinclude -c src/f$i.c -o remote/f$i.o & done
            wait
            for i in $(seq 0 31); do test -f remote/f$i.o || exit 1; done
            """
        var environment = server.clientEnvironment(["SSHCC_HOSTS": "\(server.hostSpec)/4", "SSHCC_FALLBACK": "0"])
        environment["SSHCC"] = Products.sshcc
        environment["SSHCC_DIR"] = project.muxDirectory
        let result = try Command.run("bash", ["-c", script], environment: environment, directory: project.path)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(Self.mismatches(project, count: 32) == [])
        #expect(
            Self.muxLog(project).components(separatedBy: "started: pid").count - 1 == 1,
            Comment(rawValue: Self.muxLog(project)))
        #expect(server.logins == 1)
    }

    @Test func statusStopAndIdleExit() throws {
        let server = try SSHDServer()
        let project = try Self.buildProject(3)
        var environment = server.clientEnvironment(["SSHCC_HOSTS": "\(server.hostSpec)/2", "SSHCC_FALLBACK": "0"])
        environment["SSHCC_DIR"] = project.muxDirectory
        let none = try Command.run(Products.sshcc, ["--status"], environment: environment)
        #expect(none.status == 1 && none.stderrText.contains("no mux daemon is running"))

        #expect(try Self.build(project, parallel: 3, environment: environment).status == 0)
        let status = try Command.run(Products.sshcc, ["--status"], environment: environment)
        #expect(status.stdoutText.contains("\(server.hostSpec)/2: up"), "\(status.stdoutText)")
        #expect(status.stdoutText.contains("jobs 3 done, 0 failed, mean "))
        #expect(status.stdoutText.contains("channels 2 open / 0 busy of 2 slots"))
        let mode = try FileManager.default.attributesOfItem(atPath: project.muxDirectory)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        let socketMode =
            try FileManager.default.attributesOfItem(atPath: project.muxDirectory + "/mux.sock")[.posixPermissions]
            as? Int
        #expect(socketMode == 0o600)

        let pid = project.muxDaemonPID
        let stop = try Command.run(Products.sshcc, ["--stop"], environment: environment)
        #expect(stop.stdoutText.contains("mux daemon stopped"))
        #expect(eventually { pid.map { kill($0, 0) != 0 } ?? false }, "the daemon exited")
        #expect(!FileManager.default.fileExists(atPath: project.muxDirectory + "/mux.sock"))

        // An idle daemon leaves by itself.
        environment["SSHCC_IDLE_TIMEOUT"] = "1"
        #expect(try Self.build(project, parallel: 1, environment: environment).status == 0)
        let idle = project.muxDaemonPID
        #expect(idle != nil)
        #expect(eventually { idle.map { kill($0, 0) != 0 } ?? false })
        #expect(Self.muxLog(project).contains("stopping: idle for 1 s"))
    }

    /// A daemon of another version answers the wrapper: the wrapper says so, stops it and starts its own.
    @Test func aDaemonOfAnotherVersionIsReplaced() throws {
        let server = try SSHDServer()
        let project = try Self.buildProject(1)
        try Files.makePrivateDirectory(project.muxDirectory)
        let socketPath = project.muxDirectory + "/mux.sock"
        // The old daemon is a process named sshcc-mux (a copy of the Python interpreter running a script), as a
        // real one would be: the wrapper talks only to an sshcc-mux of its own user.
        let heardPath = project.path + "/heard"
        let stale = try Self.staleDaemon(at: socketPath, recording: heardPath, in: project)
        defer { kill(stale, SIGKILL) }
        var environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        environment["SSHCC_DIR"] = project.muxDirectory
        let result = try Fixtures.sshcc(
            ["gcc", "-O2", "-Iinclude", "-c", "src/f0.c", "-o", "f0.o"], in: project.path, environment: environment)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(
            result.stderrText.contains(
                "the mux daemon is '0 sshcc 0.0.1', this sshcc is '\(MuxVersion.protocolNumber) sshcc "))
        #expect(eventually { Self.heard(heardPath).count == 2 })
        #expect(Self.heard(heardPath) == ["MUXV,HOST,HSRC,IDEN,KNWN,SCFG,CTMO,IOTM,TOOL,JOBA", "MUXV,STOP"])
        #expect(server.jobsServed == 1, "compiled by the new daemon")
        #expect(try project.read("f0.o") == project.read("local/f0.o"))
    }

    /// The frame kinds each connection to the stale daemon sent, one line per connection.
    static func heard(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// A mux daemon of an older version at `socket`: it answers a job with VERR and a stop with BYE_, and
    /// writes down the frame kinds it heard. Returns its PID.
    static func staleDaemon(at socket: String, recording heard: String, in project: TemporaryDirectory) throws
        -> pid_t
    {
        let interpreter = project.path + "/old/sshcc-mux"
        try FileManager.default.createDirectory(atPath: project.path + "/old", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/bin/python3.11", toPath: interpreter)
        let script = try project.write(
            "old/daemon.py",
            """
            import os, socket, sys
            path, heard, ready = sys.argv[1], sys.argv[2], sys.argv[3]
            def frame(kind, body=b""):
                return kind.encode() + b"%08x" % len(body) + body
            listener = socket.socket(socket.AF_UNIX)
            listener.bind(path)
            listener.listen(8)
            open(ready, "w").close()
            for _ in range(2):
                connection, _ = listener.accept()
                data, kinds = b"", []
                while not any(k in ("JOBA", "STOP") for k in kinds):
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    while len(data) >= 12 and len(data) >= 12 + int(data[4:12], 16):
                        length = int(data[4:12], 16)
                        kinds.append(data[:4].decode())
                        data = data[12 + length:]
                answer = frame("MUXV", b"0 sshcc 0.0.1")
                if kinds and kinds[-1] == "STOP":
                    os.unlink(path)
                    answer += frame("BYE_")
                else:
                    answer += frame("VERR", b"old")
                connection.sendall(answer)
                connection.shutdown(socket.SHUT_WR)
                while connection.recv(65536):
                    pass
                connection.close()
                with open(heard, "a") as out:
                    out.write(",".join(kinds) + "\\n")

            """)
        let ready = project.path + "/old/ready"
        let started = try Command.check(
            "bash",
            [
                "-c",
                "'\(interpreter)' '\(script)' '\(socket)' '\(heard)' '\(ready)' </dev/null >'\(ready).log' 2>&1 & echo $!",
            ])
        #expect(
            eventually { FileManager.default.fileExists(atPath: ready) },
            "the stale daemon did not start: \((try? String(contentsOfFile: ready + ".log", encoding: .utf8)) ?? "")")
        return pid_t(started.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
