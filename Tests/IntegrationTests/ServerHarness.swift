// sshccd driven directly, as sshd would start it, for the hostile-input and limit tests: a private job
// directory, a log, and an optional instrument on PATH (a `gcc` script that records that it ran). `Live` is
// one sshccd on pipes, for tests that act while a job runs (disconnect, SIGTERM).

import DistccWire
import Foundation
import TestSupport
import Testing

struct ServerHarness {
    let directory: TemporaryDirectory
    var jobs: String { directory.path + "/jobs" }
    var bin: String { directory.path + "/bin" }
    var logPath: String { directory.path + "/sshccd.log" }
    /// Where instruments record their runs, one line each.
    var runs: String { directory.path + "/runs" }

    /// Off by default here: instruments record their runs in the harness directory, which a sandboxed
    /// compiler cannot write. SandboxTests turn it on.
    let sandboxed: Bool

    init(_ label: String, sandboxed: Bool = false) throws {
        self.sandboxed = sandboxed
        directory = try TemporaryDirectory(label)
        try FileManager.default.createDirectory(atPath: jobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    }

    /// sshccd's own options: this harness's log, job directory and slots.
    var baseOptions: [String] {
        ["--log", logPath, "--tmpdir", jobs, "--slots-dir", directory.path + "/slots", "--min-free-memory", "0"]
            + (sandboxed ? [] : ["--sandbox", "off"])
    }

    /// PATH for sshccd: the instruments first.
    var environment: [String: String] { ["PATH": bin + ":/usr/bin:/bin", "HOME": directory.path] }

    /// Installs `bin/NAME` running `body` (sh) after recording "NAME pid cwd-mode" in `runs`.
    func instrument(_ name: String = "gcc", _ body: String = "exec /usr/bin/gcc \"$@\"") throws {
        let path = try directory.write(
            "bin/" + name, "#!/bin/sh\necho \"\(name) $$ $(stat -c %a .)\" >> \(runs)\n\(body)\n")
        chmod(path, 0o755)
    }

    /// Lines the instruments recorded.
    var instrumentRuns: [String] {
        ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func serve(_ input: [UInt8], options: [String] = []) throws -> CommandResult {
        try Command.run(Products.sshccd, baseOptions + options, environment: environment, input: Data(input))
    }

    func serve(_ requests: [Request], options: [String] = []) throws -> (CommandResult, [Reply]) {
        let result = try serve(requests.flatMap(WireEncoder.encode), options: options)
        return (result, try Self.replies(result.stdout))
    }

    static func replies(_ output: Data) throws -> [Reply] {
        var decoder = ReplyDecoder()
        decoder.append(output)
        var replies: [Reply] = []
        while let reply = try decoder.next() { replies.append(reply) }
        try decoder.finish()
        return replies
    }

    var leftovers: [String] { (try? FileManager.default.contentsOfDirectory(atPath: jobs)) ?? ["unreadable"] }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A request for `text` preprocessed by the local gcc, named `name`.
    func request(_ name: String, _ text: String, _ arguments: [String]) throws -> Request {
        try directory.write("src/" + name, text)
        let flags = name.hasSuffix(".c") ? [] : ["-x", "c++"]
        let preprocessed = try Command.check("gcc", flags + ["-E", "src/" + name], directory: directory.path).stdout
        return Request(arguments: arguments, source: Array(preprocessed))
    }

    /// One sshccd on pipes.
    final class Live {
        let process = Process()
        let stdin = Pipe()
        let stdout = Pipe()

        init(_ harness: ServerHarness, options: [String] = [], asUser: String? = nil) throws {
            if let asUser {
                process.executableURL = URL(fileURLWithPath: try Command.which("setpriv"))
                process.arguments =
                    ["--reuid", asUser, "--regid", asUser, "--clear-groups", Products.sshccd] + harness.baseOptions
                    + options
            } else {
                process.executableURL = URL(fileURLWithPath: Products.sshccd)
                process.arguments = harness.baseOptions + options
            }
            process.environment = harness.environment
            process.standardInput = stdin
            process.standardOutput = stdout
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func send(_ request: Request) throws {
            try stdin.fileHandleForWriting.write(contentsOf: WireEncoder.encode(request))
        }

        /// Reads until one complete reply (nil when the stream ends first).
        func reply() throws -> Reply? {
            var decoder = ReplyDecoder()
            while true {
                let chunk = stdout.fileHandleForReading.availableData
                if chunk.isEmpty { return nil }
                decoder.append(chunk)
                if let reply = try decoder.next() { return reply }
            }
        }

        /// The client goes away: both ends of its stream close, as when sshd closes the channel.
        func disconnect() throws {
            try stdin.fileHandleForWriting.close()
            try stdout.fileHandleForReading.close()
        }

        func wait() -> Int32 {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}

/// True once no live process has the PID (the instrument's compilers must not outlive their job); a zombie
/// waiting for its reaper counts as gone.
func processGone(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
}
