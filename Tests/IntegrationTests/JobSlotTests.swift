// Server-wide compile slots through a real sshd: with `sshccd --jobs 2`, five jobs sent at once over five
// channels (five sshccd processes) never run more than two compilers at a time, and all five complete.
// The compilers are counted by an instrument on the server's PATH: a `gcc` script that logs its start and
// end around the real /usr/bin/gcc (and lingers 0.4 s so that the jobs overlap).

import Foundation
import TestSupport
import Testing

@Suite struct JobSlotTests {
    @Test func jobsBeyondTheSlotsWaitAndAllComplete() throws {
        let project = try Fixtures.project()
        let instruments = project.path + "/server-bin"
        let events = project.path + "/compiler-events"
        let script = try project.write(
            "server-bin/gcc",
            """
            #!/bin/sh
            # The assembler step starts early and waits on stdin inside its job's slot: only the compile step,
            # which does the work, is timed; so are not sshccd's questions that identify the toolchain.
            for a in "$@"; do
                case "$a" in assembler|-###|-dump*|--version) exec /usr/bin/gcc "$@" ;; esac
            done
            echo "start $(date +%s%N)" >> \(events)
            sleep 0.4
            /usr/bin/gcc "$@"
            status=$?
            echo "end $(date +%s%N)" >> \(events)
            exit $status

            """)
        chmod(script, 0o755)
        let slots = project.path + "/slots"
        let logDirectory = try TemporaryDirectory("sshcc-slot-logs")
        let log = logDirectory.path + "/sshccd.log"
        let server = try SSHDServer(
            subsystem: false,
            extraConfig: [
                "SetEnv PATH=\(instruments):/usr/bin:/bin",
                // No sandbox: the instrument writes its events outside the job directory. No direct steps: the
                // instrument stands for gcc's driver, which they would go around.
                "Subsystem sshcc \(Products.sshccd) --config none --log \(log) --jobs 2 --slots-dir \(slots) --min-free-memory 0 "
                    + "--sandbox off --direct-steps off --cache \(slots)-cache --objects none",
            ])
        let environment = server.clientEnvironment(["SSHCC_HOSTS": server.hostSpec + "/5", "SSHCC_FALLBACK": "0"])
        for index in 0..<5 {
            try project.write("src/job\(index).c", "int job\(index)(int x) { return x * \(index + 2); }\n")
        }
        let builds = (0..<5).map { index in
            Background { () -> Int32 in
                let result = try? Fixtures.sshcc(
                    ["gcc", "-O2", "-c", "src/job\(index).c", "-o", "out-remote/job\(index).o"], in: project.path,
                    environment: environment)
                return result?.status ?? -1
            }
        }
        let statuses = builds.map { $0.wait() }
        #expect(statuses == [0, 0, 0, 0, 0])

        // The most compilers running at once, from the instrument's start/end times.
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
        let changes = lines.compactMap { line -> (Int, Int)? in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let time = Int(parts[1]) else { return nil }
            return (time, parts[0] == "start" ? 1 : -1)
        }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var running = 0
        var most = 0
        for change in changes {
            running += change.1
            most = max(most, running)
        }
        #expect(changes.count == 10, "five jobs, each compile step started and ended")
        #expect(most <= 2, "at most --jobs compilers at once (saw \(most))")
        #expect(most == 2, "the two slots were used side by side")
        // The server told its two slots: the daemon held the other jobs (declared /5 is only a ceiling) rather
        // than queue them there. (Waiting on the server itself, when clients send more: ServerSessionTests.)
        let status = try Command.run(Products.sshcc, ["--status"], environment: environment).stdoutText
        #expect(status.contains("takes 2 of this daemon's jobs at once"), "\(status)")
        for index in 0..<5 {
            try Command.check(
                "gcc", ["-O2", "-c", "src/job\(index).c", "-o", "out-local/job\(index).o"], directory: project.path)
            #expect(try project.read("out-remote/job\(index).o") == project.read("out-local/job\(index).o"))
        }
    }
}
