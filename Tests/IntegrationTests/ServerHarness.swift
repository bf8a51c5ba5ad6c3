// sshccd driven directly, as sshd would start it, for the hostile-input and limit tests: a private job
// directory, a log, and an optional instrument on PATH (a `gcc` script that records that it ran). `Live` is
// one sshccd on pipes, for tests that act while a job runs (disconnect, SIGTERM).

import CPOSIX
import DistccWire
import Foundation
import POSIXSupport
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

    /// Off by default here: instruments stand in for gcc's driver, and direct steps (cc1, `as`) would go
    /// around them. A test that wants them gives its instrument a `-###` answer.
    let directSteps: Bool

    /// The object cache's root (`--objects`): off unless a test wants it, so that a test's repeated jobs
    /// compile each time.
    let objects: String?

    init(_ label: String, sandboxed: Bool = false, directSteps: Bool = false, objects: String? = nil) throws {
        self.sandboxed = sandboxed
        self.directSteps = directSteps
        self.objects = objects
        directory = try TemporaryDirectory(label)
        try FileManager.default.createDirectory(atPath: jobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    }

    /// sshccd's own options: this harness's log, job directory and slots.
    var baseOptions: [String] {
        [
            "--config", "none", "--log", logPath, "--tmpdir", jobs, "--slots-dir", directory.path + "/slots",
            "--min-free-memory", "0", "--objects", objects ?? "none",
        ]
            + (sandboxed ? [] : ["--sandbox", "off"]) + (directSteps ? [] : ["--direct-steps", "off"])
    }

    /// PATH for sshccd: the instruments first.
    var environment: [String: String] { ["PATH": bin + ":/usr/bin:/bin", "HOME": directory.path] }

    /// Installs `bin/NAME` running `body` (sh) after recording "NAME pid role cwd-mode" in `runs`; the role is
    /// `assemble` for gcc's second step (`-x assembler`, started early and waiting on stdin), else `compile`.
    func instrument(_ name: String = "gcc", _ body: String = "exec /usr/bin/gcc \"$@\"") throws {
        let role = #"role=compile; for a in "$@"; do [ "$a" = assembler ] && role=assemble; done"#
        let path = try directory.write(
            "bin/" + name,
            "#!/bin/sh\n\(role)\necho \"\(name) $$ $role $(stat -c %a .)\" >> \(runs)\n\(body)\n")
        chmod(path, 0o755)
    }

    /// Lines the instruments recorded.
    var instrumentRuns: [String] {
        ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The recorded runs that compile (not the assembler step).
    var compileRuns: [String] { instrumentRuns.filter { $0.contains(" compile ") } }

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

    /// One sshccd on pipes, spawned as sshcc spawns its helpers (not Foundation's Process: its pipe handles
    /// and our closes must never meet, or a double close hits a descriptor another test thread was given).
    final class Live {
        let pid: pid_t
        /// Our ends of its stdin and stdout, until `disconnect`.
        private var input: FileDescriptor?
        private var output: FileDescriptor?
        private var status: Int32?

        init(_ harness: ServerHarness, options: [String] = [], asUser: String? = nil) throws {
            var arguments = [Products.sshccd] + harness.baseOptions + options
            if let asUser {
                arguments =
                    [try Command.which("setpriv"), "--reuid", asUser, "--regid", asUser, "--clear-groups"]
                    + arguments
            }
            // Close-on-exec, and nothing else inherited: a script another test is writing must not stay open
            // for writing in this long-lived child ("text file busy" when that test runs it).
            let toChild = try FileDescriptorIO.pipe(), fromChild = try FileDescriptorIO.pipe()
            pid = try Subprocess.spawn(
                executable: arguments[0], arguments: arguments,
                environment: harness.environment.map { "\($0.key)=\($0.value)" }, stdin: toChild.read,
                stdout: fromChild.write)
            input = .some(toChild.write)
            output = .some(fromChild.read)
        }

        deinit {
            disconnect()
            if status == nil {
                kill(pid, SIGKILL)
                _ = wait()
            }
        }

        func send(_ request: Request) throws { try FileDescriptorIO.writeAll(input!, WireEncoder.encode(request)) }

        /// Sends a request's command line and stops before its source (DOTI), as a client that then goes silent.
        func sendHeadOnly(_ request: Request) throws {
            let bytes = WireEncoder.encode(request)
            let doti = Array("DOTI".utf8)
            let cut = (0...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(doti) }!
            try FileDescriptorIO.writeAll(input!, Array(bytes[..<cut]))
        }

        /// Sends bytes as they are (a source after `NEED`, a request cut anywhere).
        func send(bytes: [UInt8]) throws { try FileDescriptorIO.writeAll(input!, bytes) }

        /// Reads the answer to a question (protocol 7): `NEED`, or a whole reply (nil when the stream ends).
        func answer() throws -> Reply?? {
            var bytes: [UInt8] = []
            while bytes.count < FrameHeader.size {
                let chunk = try FileDescriptorIO.read(output!)
                if chunk.isEmpty { return nil }
                bytes += chunk
            }
            if bytes.starts(with: WireEncoder.sourceNeeded) {
                #expect(bytes.count == FrameHeader.size, "nothing after NEED")
                return .some(nil)
            }
            var decoder = ReplyDecoder()
            decoder.append(bytes)
            while true {
                if let reply = try decoder.next() { return reply }
                let chunk = try FileDescriptorIO.read(output!)
                if chunk.isEmpty { return nil }
                decoder.append(chunk)
            }
        }

        /// True when a reply (or the end of the stream) is ready to read within `milliseconds`.
        func replyReady(within milliseconds: Int32) -> Bool {
            guard output != nil else { return true }
            return Poll.wait([Poll.Entry(output!)], milliseconds: milliseconds)[0]
        }

        /// Reads until one complete reply (nil when the stream ends first).
        func reply() throws -> Reply? {
            var decoder = ReplyDecoder()
            while true {
                guard output != nil else { return nil }
                let chunk = try FileDescriptorIO.read(output!)
                if chunk.isEmpty { return nil }
                decoder.append(chunk)
                if let reply = try decoder.next() { return reply }
            }
        }

        /// The numbers of our ends of its stdin and stdout, for a caller that drives them itself (non-blocking)
        /// while this lives and is connected.
        var descriptors: (input: Int32, output: Int32) { (input?.number ?? -1, output?.number ?? -1) }

        /// Its exit status once it has exited (nil until then; a signal's end reads as nil, as an SSH channel
        /// reports no exit status for a killed command). Does not block.
        func exitStatusIfExited() -> Int32?? {
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            return .some(raw & 0x7f == 0 ? (raw >> 8) & 0xff : nil)
        }

        /// The client goes away: both ends of its stream close, as when sshd closes the channel.
        func disconnect() {
            input = nil
            output = nil
        }

        /// Waits for it to exit; its exit code (128 + signal when a signal ended it).
        func wait() -> Int32 {
            if let status { return status }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            status = code
            return code
        }
    }
}

/// True once no live process has the PID (the instrument's compilers must not outlive their job); a zombie
/// waiting for its reaper counts as gone.
func processGone(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
}
