// Subprocess.startLimited/finish ↔ LimitedProcess.swift: a limited process started ahead of its input (sshccd's
// assembler) gets that input while its output is read, whatever it does with either, and is killed when it
// is never finished.

import Foundation
import POSIXSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct StartedProcessTests {
    static let limits = ProcessLimits(cpuSeconds: 60, memoryBytes: 0, fileSizeBytes: 0, wallSeconds: 60)
    static let input = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }

    /// As in every sshcc executable: a reader that left must be EPIPE, not the end of this process.
    init() { signal(SIGPIPE, SIG_IGN) }

    func run(_ script: String, input: [UInt8]) throws -> LimitedResult {
        let started = try Subprocess.startLimited(
            executable: "/bin/sh", arguments: ["sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
            directory: "/", limits: Self.limits, readsInput: true)
        return try Subprocess.finish(started, input: input, captureLimit: 4 << 20, watch: nil)
    }

    /// 1 MiB through `cat`: far more than a pipe holds, so writing and reading must interleave.
    @Test func inputLargerThanAPipeIsFedWhileOutputIsRead() throws {
        let result = try run("cat", input: Self.input)
        #expect(result.process.status == 0)
        #expect(result.process.stdout == Self.input)
    }

    /// A process that stops reading early (the assembler failing at once) ends the feeding, not us.
    @Test func aReaderThatLeavesEarlyIsNotAnError() throws {
        let result = try run("head -c 10 >/dev/null; exit 3", input: Self.input)
        #expect(result.process.status == 3 << 8)
    }

    /// Messages written before the input is read (more than a pipe holds) are drained meanwhile: no deadlock.
    @Test func outputBeforeReadingDoesNotDeadlock() throws {
        let result = try run("head -c 200000 /dev/zero >&2; wc -c", input: Self.input)
        #expect(result.process.stderr.count == 200_000)
        #expect(
            String(decoding: result.process.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                == "\(Self.input.count)")
    }

    /// A run that is started and then dropped (its job refused after step 1) is killed and reaped.
    @Test func aDroppedRunIsKilled() throws {
        let pidFile = NSTemporaryDirectory() + "/sshcc-dropped-\(UUID().uuidString)"
        defer { unlink(pidFile) }
        var started: StartedProcess? = try Subprocess.startLimited(
            executable: "/bin/sh", arguments: ["sh", "-c", "echo $$ > \(pidFile); exec cat"], environment: [],
            directory: "/", limits: Self.limits, readsInput: true)
        var pid: pid_t?
        for _ in 0..<500 where pid == nil {
            pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if pid == nil { usleep(10_000) }
        }
        let running = try #require(pid)
        #expect(kill(running, 0) == 0, "running before it is dropped")
        _ = started
        started = nil
        #expect(kill(running, 0) != 0, "the dropped run is gone")
    }
}
