// Running programs from tests: the built executables and system tools, with exit status and output.
// Tests may use Foundation freely; the product does not.

import Foundation
import POSIXSupport

/// What a finished command left.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

public enum Command {
    /// Runs `executable` (a path, or a name looked up on PATH) and waits. Built on the product's own
    /// posix_spawn runner: Foundation's Process loses track of children that leave daemons behind. The child
    /// gets no descriptor above 2: Foundation opens files without O_CLOEXEC, and a script another test is
    /// writing would stay open for writing in our child ("text file busy" when that test runs it).
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        input: Data? = nil
    ) throws -> CommandResult {
        let path = executable.contains("/") ? executable : try which(executable)
        var stdinPath = "/dev/null"
        var inputFile: TemporaryDirectory?
        if let input {
            let holder = try TemporaryDirectory("sshcc-input")
            stdinPath = holder.path + "/stdin"
            try input.write(to: URL(fileURLWithPath: stdinPath))
            inputFile = holder
        }
        defer { _ = inputFile }
        let result = try Subprocess.run(
            executable: path, arguments: [executable] + arguments,
            environment: environment.map { $0.map { "\($0.key)=\($0.value)" } }, directory: directory,
            stdinPath: stdinPath, closingOthers: true)
        let status = result.signal.map { 128 + $0 } ?? result.exitCode ?? 255
        return CommandResult(status: status, stdout: Data(result.stdout), stderr: Data(result.stderr))
    }

    /// Runs a command that must succeed; throws with its stderr otherwise.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], directory: String? = nil) throws
        -> CommandResult
    {
        let result = try run(executable, arguments, directory: directory)
        guard result.status == 0 else {
            throw TestSupportError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderrText)")
        }
        return result
    }

    /// Starts `executable` (an absolute path) in the background, stdio on /dev/null, no other descriptor;
    /// returns its PID for the caller to stop and reap.
    public static func spawn(_ executable: String, _ arguments: [String]) throws -> pid_t {
        let null = try FileDescriptor("open", path: "/dev/null") { open("/dev/null", O_RDWR | O_CLOEXEC) }
        return try Subprocess.spawnConnected(
            executable: executable, arguments: [executable] + arguments, stdio: null, stderr: null)
    }

    public static func which(_ name: String) throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        for directory in ["/usr/sbin", "/sbin"]
        where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw TestSupportError("\(name) is not installed (run .ci/run or Scripts/install-deps)")
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
