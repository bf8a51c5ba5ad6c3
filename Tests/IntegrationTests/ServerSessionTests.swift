// A server's jobs among others: sshccd processes on pipes, acting while jobs run. A client that
// goes away mid-compile or mid-wait stops its job and frees its slot; SIGTERM lets the running job answer
// first; a job waits while memory is short; a freed slot goes to the user who has waited longest, so one
// user's queue does not starve another (a second user through setpriv).

import DistccWire
import Foundation
import TestSupport
import Testing

@Suite struct ServerSessionTests {
    static let source = "int value(int x) { return x * 3; }\n"

    /// A gcc instrument that hangs (with a background child) in its `step` (`compile`: the first step,
    /// `assemble`: the assembler, which runs on a thread of its own) while `hang` exists, else compiles.
    func hangingWhileFlagged(_ harness: ServerHarness, step: String = "compile") throws -> String {
        let flag = try harness.directory.write("hang", "")
        try harness.instrument(
            "gcc",
            """
            if [ -e \(flag) ] && [ $role = \(step) ]; then
                sleep 600 & echo $! > \(harness.directory.path)/child.pid; wait
            fi
            exec /usr/bin/gcc "$@"
            """)
        return flag
    }

    @Test(arguments: ["compile", "assemble"])
    func clientLeavingMidCompileStopsTheJobAndFreesTheSlot(step: String) throws {
        let harness = try ServerHarness("sshccd-leave")
        let flag = try hangingWhileFlagged(harness, step: step)
        let live = try ServerHarness.Live(harness, options: ["--jobs", "1"])
        try live.send(try harness.request("a.c", Self.source, ["gcc", "-c", "a.c"]))
        // The shell makes the file before it writes the pid: wait for the line.
        #expect(eventually { ((try? harness.directory.read("child.pid")) ?? Data()).last == UInt8(ascii: "\n") })
        let child = try #require(
            pid_t(
                String(decoding: try harness.directory.read("child.pid"), as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        live.disconnect()
        #expect(live.wait() == 113)
        #expect(eventually { processGone(child) })
        #expect(harness.log.contains("the client went away"))
        #expect(harness.leftovers.isEmpty)
        // The one slot is free again: the next job runs at once.
        try FileManager.default.removeItem(atPath: flag)
        let (_, replies) = try harness.serve(
            [try harness.request("b.c", Self.source, ["gcc", "-c", "b.c"])],
            options: ["--jobs", "1"])
        #expect(replies.first?.exitCode == 0)
    }

    @Test func clientLeavingWhileItsJobWaitsEndsTheWait() throws {
        let harness = try ServerHarness("sshccd-leave-waiting")
        _ = try hangingWhileFlagged(harness)
        let holder = try ServerHarness.Live(harness, options: ["--jobs", "1"])
        try holder.send(try harness.request("a.c", Self.source, ["gcc", "-c", "a.c"]))
        #expect(eventually { harness.directory.exists("child.pid") })
        let waiter = try ServerHarness.Live(harness, options: ["--jobs", "1"])
        try waiter.send(try harness.request("b.c", Self.source, ["gcc", "-c", "b.c"]))
        #expect(eventually { harness.log.contains("waits: all 1 compile slots are busy") })
        waiter.disconnect()
        #expect(waiter.wait() == 113)
        #expect(harness.compileRuns.count == 1, "the waiting job's compiler never started: \(harness.instrumentRuns)")
        holder.disconnect()
        #expect(holder.wait() == 113)
        #expect(harness.leftovers.isEmpty)
    }

    @Test func jobWaitsWhileMemoryIsShort() throws {
        let harness = try ServerHarness("sshccd-memory-wait")
        try harness.instrument("gcc")
        // More memory than any test machine has: the job must wait, not start and not be refused.
        let live = try ServerHarness.Live(harness, options: ["--min-free-memory", "100000000"])
        try live.send(try harness.request("a.c", Self.source, ["gcc", "-c", "a.c"]))
        #expect(eventually { harness.log.contains("waits: available memory") })
        usleep(300_000)
        #expect(harness.instrumentRuns.isEmpty)
        kill(live.pid, SIGTERM)
        // Waiting when SIGTERM comes: the job is answered with a refusal (the client compiles it locally).
        let reply = try live.reply()
        #expect(reply?.exitCode == 108)
        let message = String(decoding: reply?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("shutting down"))
        #expect(live.wait() == 0)
        #expect(harness.instrumentRuns.isEmpty)
    }

    @Test func sigtermLetsTheRunningJobFinish() throws {
        let harness = try ServerHarness("sshccd-term")
        try harness.instrument("gcc", "sleep 1\nexec /usr/bin/gcc \"$@\"")
        let live = try ServerHarness.Live(harness)
        let request = try harness.request("a.c", Self.source, ["gcc", "-O2", "-c", "a.c"])
        try live.send(request)
        #expect(eventually { !harness.instrumentRuns.isEmpty })
        kill(live.pid, SIGTERM)
        let reply = try live.reply()
        try Command.check("gcc", ["-O2", "-c", "src/a.c", "-o", "local.o"], directory: harness.directory.path)
        #expect(reply?.exitCode == 0)
        #expect(reply.map { Data($0.object) } == (try harness.directory.read("local.o")))
        #expect(live.wait() == 0)
        #expect(harness.log.contains("session ended: terminated"))
        #expect(harness.leftovers.isEmpty)

        let idle = try ServerHarness.Live(harness)
        usleep(200_000)
        kill(idle.pid, SIGTERM)
        #expect(idle.wait() == 0)
    }

    /// `--jobs 1`; user A queues four jobs, user B one after them: B's job runs third (after A's running
    /// job and A's first waiter), not last.
    @Test func aFreedSlotGoesToTheUserWhoWaitedLongest() throws {
        let harness = try ServerHarness("sshccd-fair")
        chmod(harness.directory.path, 0o755)
        for sub in ["jobs", "bin"] { chmod(harness.directory.path + "/" + sub, 0o1777) }
        // Files both users write: the start order, the instrument's runs, B's log.
        let order = harness.directory.path + "/order"
        let bLog = harness.directory.path + "/b.log"
        for path in [order, harness.runs, bLog] {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            chmod(path, 0o666)
        }
        try harness.instrument("gcc", "echo \"$(id -u) $2\" >> \(order)\nsleep 0.3\nexec /usr/bin/gcc \"$@\"")
        let request = try harness.request("a.c", Self.source, ["gcc", "-c", "a.c"])

        let a = try (0..<4).map { _ in try ServerHarness.Live(harness, options: ["--jobs", "1"]) }
        for live in a { try live.send(request) }
        // A's first job runs, its other three wait (one as A's waiter, two behind it).
        #expect(eventually { harness.log.components(separatedBy: "waits: all 1 compile slots").count == 4 })
        let b = try ServerHarness.Live(harness, options: ["--jobs", "1", "--log", bLog], asUser: "65534")
        try b.send(request)
        for live in a + [b] { #expect(try live.reply()?.exitCode == 0) }
        for live in a + [b] {
            live.disconnect()
            _ = live.wait()
        }
        // Jobs in the order they started (each job runs the instrument twice: `-x cpp-output` to assembly,
        // then `-x assembler` to the object).
        let starts = try String(contentsOfFile: order, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasSuffix(" cpp-output") }.map { $0.split(separator: " ")[0] }
        #expect(starts == ["0", "0", "65534", "0", "0"], "\(starts)")
    }
}
