// What `sshcc --status` shows while a build runs, through a real sshd: each job (file, host, how long, what
// it waits for), recent failures, the same as JSON for scripts; `--watch` outlives the daemon; the daemon's
// log records connections, failures and backoffs, and every job at the debug level.

import Foundation
import POSIXSupport
import TestSupport
import Testing

@Suite struct StatusTests {
    /// A client whose preprocessing (a busy machine's slow headers) lasts until the file `gate` exists.
    func gatedPreprocessor(_ project: TemporaryDirectory) throws -> String {
        try Fixtures.gatedPreprocessor(project, takesGate: false)
    }

    func status(_ environment: [String: String], _ arguments: [String] = []) throws -> CommandResult {
        try Command.run(Products.sshcc, ["--status"] + arguments, environment: environment)
    }

    @Test func statusListsEachJobWhereItIsAndWhatItWaitsFor() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let down = "127.0.0.1:\(SSHDServer.closedPort())"
        var environment = server.clientEnvironment([
            // One slot: the first job holds it while its preprocessor runs, the others queue behind it.
            "SSHCC_HOSTS": "\(server.hostSpec)/1 \(down)/1", "SSHCC_LOG_LEVEL": "debug",
        ])
        environment["SSHCC_DIR"] = project.muxDirectory
        environment["PATH"] = try gatedPreprocessor(project) + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        for name in ["a", "b", "c"] { try project.write("src/\(name).c", "int \(name)(void) { return 1; }\n") }
        let buildEnvironment = environment
        let builds = ["a", "b", "c"].map { name in
            Background {
                try? Fixtures.sshcc(
                    ["gcc", "-O2", "-c", "src/\(name).c", "-o", "out-remote/\(name).o"], in: project.path,
                    environment: buildEnvironment)
            }
        }
        var text = ""
        let seen = eventually {
            text = (try? status(environment).stdoutText) ?? ""
            return text.contains("running src/") && text.components(separatedBy: "  queued  src/").count == 3
        }
        #expect(seen, "\(text)")
        // The running job's head went out ahead of its source: it waits for the preprocessor.
        #expect(text.contains("on \(server.hostSpec)/1, "), "\(text)")
        #expect(text.contains("waiting for the rest of its source (the preprocessor still runs)"), "\(text)")
        // "all 1 busy", or "all 2 busy" while the closed port is tried again after its short backoff.
        #expect(text.contains("waiting for a free slot (all ") || text.contains("waiting for a channel to"), "\(text)")
        // The closed port failed at once: it is a recent failure, and its host is backed off.
        #expect(text.contains("recent failures (newest last"), "\(text)")
        // A failure names the job it cost when one was placed there: "HOST (FILE): …" or "HOST: …".
        let failureLines = text.split(separator: "\n").filter {
            $0.contains(" \(down)/1") && $0.contains(": cannot reach")
        }
        #expect(!failureLines.isEmpty, "\(text)")

        let json = try status(environment, ["--json"])
        #expect(json.status == 0)
        let object = try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any]
        let jobs = object?["jobs"] as? [[String: Any]] ?? []
        #expect(
            Set(jobs.compactMap { $0["file"] as? String }) == ["src/a.c", "src/b.c", "src/c.c"], "\(json.stdoutText)")
        #expect(jobs.filter { $0["state"] as? String == "queued" }.count == 2)
        #expect(
            jobs.contains { $0["state"] as? String == "running" && $0["host"] as? String == "\(server.hostSpec)/1" })
        let hosts = object?["hosts"] as? [[String: Any]] ?? []
        let dead = hosts.first { $0["name"] as? String == "\(down)/1" }
        // Backed off 1, 2, 4… s after a network failure: down, or trying again.
        #expect(["down", "connecting"].contains(dead?["state"] as? String ?? ""), "\(json.stdoutText)")
        #expect((dead?["last_error"] as? String)?.contains("cannot reach") == true, "\(json.stdoutText)")
        #expect((object?["recent_failures"] as? [[String: Any]])?.first?["host"] as? String == "\(down)/1")

        #expect(FileManager.default.createFile(atPath: project.path + "/gate", contents: nil))
        for build in builds { #expect(build.wait()?.status == 0) }
        let after = try status(environment)
        #expect(!after.stdoutText.contains("running src/") && !after.stdoutText.contains("queued "))

        // The daemon's log: the connection, the failure and the backoff, each job (debug level).
        let log = (try? String(contentsOfFile: project.muxDirectory + "/mux.log", encoding: .utf8)) ?? ""
        #expect(log.contains("\(server.hostSpec)/1: connected"), "\(log)")
        #expect(log.contains("\(down)/1: cannot connect: cannot reach"), "\(log)")
        #expect(log.contains("\(down)/1: backed off for "), "\(log)")
        for name in ["a", "b", "c"] {
            #expect(log.contains("src/\(name).c: compiled on \(server.hostSpec)/1, status 0"), "\(log)")
        }
    }

    @Test func watchWaitsForADaemonAndOutlivesItsRestart() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        var environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        environment["SSHCC_DIR"] = project.muxDirectory
        let output = project.path + "/watch.out"
        let file = try FileDescriptor("open", path: output) {
            open(output, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        }
        let pid = try Subprocess.spawnConnected(
            executable: "/usr/bin/env",
            arguments: ["env", "SSHCC_DIR=\(project.muxDirectory)", Products.sshcc, "--status", "--watch"],
            stdio: file, stderr: file)
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        func watched() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        func count(_ text: String) -> Int { watched().components(separatedBy: text).count - 1 }
        #expect(eventually { count("waiting for a mux daemon") == 1 }, "\(watched())")
        let compile = ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"]
        #expect(try Fixtures.sshcc(compile, in: project.path, environment: environment).status == 0)
        #expect(eventually { count("jobs 1 done, 0 failed") >= 1 }, "\(watched())")
        // The daemon stops: the watch says so once and goes on waiting; a new daemon shows up in it.
        let stop = try Fixtures.sshcc(["--stop"], in: project.path, environment: environment)
        #expect(stop.status == 0)
        #expect(eventually { count("waiting for a mux daemon") == 2 }, "\(watched())")
        #expect(try Fixtures.sshcc(compile, in: project.path, environment: environment).status == 0)
        let before = count("sshcc mux daemon pid")
        #expect(eventually { count("sshcc mux daemon pid") > before && count("jobs 1 done") > 1 }, "\(watched())")
        #expect(kill(pid, 0) == 0, "the watch is still running")
    }

    /// `sshccd --status` as the administrator runs it: the same slot set and log as the test server's sshccd.
    func serverStatus(_ server: SSHDServer, json: Bool = false) throws -> CommandResult {
        try Command.run(
            Products.sshccd,
            [
                "--config", "none", "--jobs", "4", "--slots-dir", server.directory.path + "/slots", "--log",
                server.sshccdLog,
                "--status",
            ] + (json ? ["--json"] : []))
    }

    @Test func sshccdStatusShowsWhoHoldsEachSlotAndTheLatestJobs() throws {
        // ExposeAuthInfo: sshd tells sshccd which key logged in.
        let server = try SSHDServer(extraConfig: ["ExposeAuthInfo yes"])
        let project = try Fixtures.project()
        var environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        environment["SSHCC_DIR"] = project.muxDirectory
        environment["PATH"] = try gatedPreprocessor(project) + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let buildEnvironment = environment
        // The command line goes ahead of the source: sshccd takes a slot for the job while the client preprocesses.
        let build = Background {
            try? Fixtures.sshcc(
                ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"], in: project.path,
                environment: buildEnvironment)
        }
        var text = ""
        #expect(
            eventually {
                text = (try? serverStatus(server).stdoutText) ?? ""; return text.contains("src/prog.c")
            }, "\(text)")
        let fingerprint = try Command.run("ssh-keygen", ["-lf", server.userKey + ".pub"]).stdoutText
            .split(separator: " ")[1]
        #expect(text.contains("compile slots \"\(server.directory.path)/slots\": 1 of 4 busy"), "\(text)")
        #expect(text.contains("\(Environment.userName) from 127.0.0.1 port "), "\(text)")
        #expect(text.contains(", key ED25519 \(fingerprint), src/prog.c, "), "\(text)")
        let json = try serverStatus(server, json: true)
        let object = try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any]
        let holders = (object?["slot_holders"] as? [[String: Any]] ?? []).compactMap { $0["holder"] as? [String: Any] }
        #expect(holders.count == 1 && holders.first?["file"] as? String == "src/prog.c", "\(json.stdoutText)")
        #expect(holders.first?["client_key"] as? String == "ED25519 \(fingerprint)")

        #expect(FileManager.default.createFile(atPath: project.path + "/gate", contents: nil))
        #expect(build.wait()?.status == 0)
        let after = try serverStatus(server).stdoutText
        #expect(after.contains("0 of 4 busy"), "\(after)")
        // The job's log line names its client.
        #expect(after.contains("recent jobs (newest last):"), "\(after)")
        #expect(
            after.split(separator: "\n").contains {
                $0.contains("info: job 1: ") && $0.contains("client=\(Environment.userName) from 127.0.0.1 port ")
                    && $0.contains(String(fingerprint))
            },
            "\(after)")
    }

    @Test func doctorShowsTheServersRecentFailuresForThisAccount() throws {
        // This server allows cc only: gcc jobs are refused, and sshccd logs why.
        let server = try SSHDServer(sshccdOptions: ["--compilers", "cc"])
        let project = try Fixtures.project()
        var environment = server.clientEnvironment()
        environment["SSHCC_DIR"] = project.muxDirectory
        let compile = try Fixtures.sshcc(
            ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"], in: project.path,
            environment: environment)
        #expect(compile.status == 0, "compiled locally: \(compile.stderrText)")
        let doctor = try Fixtures.sshcc(["doctor"], in: project.path, environment: environment)
        let lines = doctor.stdoutText.split(separator: "\n")
        let head = lines.firstIndex {
            $0.contains("server log") && $0.contains("failure(s) among sshccd's latest log lines")
        }
        #expect(head != nil, "\(doctor.stdoutText)")
        // The build's refusal is there; the doctor's own probes (gcc, clang… refused just now) are not.
        let shown = head.map { lines[($0 + 1)...].filter { $0.hasPrefix("         ") } } ?? []
        #expect(shown.count == 1, "\(doctor.stdoutText)")
        #expect(shown.first?.contains("warning: job 1: refused: ") == true, "\(doctor.stdoutText)")
    }
}
