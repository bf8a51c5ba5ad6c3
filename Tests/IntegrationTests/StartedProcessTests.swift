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

    /// Starts `script` reading a relay from a pipe whose write end `writer` fills on a thread of its own.
    func relay(
        _ script: String, limit: Int = .max, screen: @escaping ([UInt8], Bool) -> [UInt8]?,
        writer: @escaping @Sendable (borrowing FileDescriptor) -> Void
    ) throws -> LimitedResult {
        let ends = try FileDescriptorIO.pipe()  // close-on-exec: no other test's child holds the sink
        let sink = OwnedHandover(ends.write)
        let started = try Subprocess.startLimited(
            executable: "/bin/sh", arguments: ["sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
            directory: "/", limits: Self.limits, readsInput: true)
        let thread = Thread {
            let fd = sink.take()
            writer(fd)
        }
        thread.start()
        return try Subprocess.finish(
            started, relaying: InputRelay(source: ends.read, limit: limit, screen: screen), captureLimit: 4 << 20,
            watch: nil)
    }

    static func write(_ bytes: [UInt8], to fd: borrowing FileDescriptor) -> Bool {
        (try? FileDescriptorIO.writeAll(fd, bytes)) != nil
    }

    /// 1 MiB relayed from a pipe through `cat`: the source, the child's stdin and its stdout interleave.
    @Test func aRelayedSourceReachesTheChildWhole() throws {
        let result = try relay("cat", screen: { bytes, _ in bytes }) { fd in _ = Self.write(Self.input, to: fd) }
        #expect(result.process.status == 0)
        #expect(result.process.stdout == Self.input)
        #expect(result.relayed?.bytes == Self.input.count && result.relayed?.stopped == false)
    }

    /// The child works on the first bytes while the source is still open: it signals having read them, and
    /// the writer ends the source only after that signal (or, were nothing relayed early, after 20 s).
    @Test func theChildGetsTheFirstBytesBeforeTheSourceEnds() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("sshcc-relay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: marker) }
        let sawEarly = Box()
        let result = try relay("head -n 1 >/dev/null; : > \(marker.path); cat", screen: { bytes, _ in bytes }) { fd in
            _ = Self.write(Array("first line\n".utf8), to: fd)
            for _ in 0..<2_000 where !sawEarly.value {
                sawEarly.value = FileManager.default.fileExists(atPath: marker.path)
                if !sawEarly.value { usleep(10_000) }
            }
            _ = Self.write(Array("rest\n".utf8), to: fd)
        }
        #expect(sawEarly.value)
        #expect(result.process.stdout == Array("rest\n".utf8))
    }

    /// A screen that refuses ends the child's input there; the rest of the source is still read, so its
    /// writer finishes (a compiler refused by the check must not die of a broken pipe).
    @Test func aRefusingScreenStopsTheChildButDrainsTheSource() throws {
        let wroteAll = Box()
        let result = try relay(
            "cat",
            screen: { bytes, _ in bytes.contains(UInt8(ascii: "!")) ? nil : bytes }
        ) { fd in
            wroteAll.value =
                Self.write(Array("ok\n".utf8), to: fd)
                && {
                    usleep(50_000); return true
                }()
                && Self.write(Array("no!\n".utf8) + Self.input, to: fd)
        }
        #expect(wroteAll.value)
        #expect(result.relayed?.stopped == true)
        #expect(result.relayed?.bytes == 7 + Self.input.count)
        #expect(!result.process.stdout.contains(UInt8(ascii: "!")))
    }

    /// More than the limit stops reading the source and ends the child's input.
    @Test func aSourceOverTheLimitIsCutOff() throws {
        let result = try relay("wc -c", limit: 1000, screen: { bytes, _ in bytes }) { fd in
            _ = Self.write(Self.input, to: fd)
        }
        #expect(result.relayed?.overLimit == true)
        let counted = Int(
            String(decoding: result.process.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(counted.map { $0 <= 1000 } == true)
    }
}

/// A flag shared with a writer thread.
final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
