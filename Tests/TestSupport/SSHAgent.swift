// A real ssh-agent for a test, on a socket in the test's directory, stopped by its own PID.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public final class SSHAgent: @unchecked Sendable {
    public let socket: String
    private var pid: pid_t?

    public init(in directory: TemporaryDirectory) throws {
        socket = directory.path + "/agent.sock"
        // ssh-agent daemonizes with stdout still open: send it to a file, or reading the pipe never ends.
        let output = directory.path + "/agent.out"
        try Command.check("/bin/sh", ["-c", "exec ssh-agent -a '\(socket)' > '\(output)' 2>&1 < /dev/null"])
        let text = try String(contentsOfFile: output, encoding: .utf8)
        pid = text.split(separator: ";").first { $0.contains("SSH_AGENT_PID=") }.flatMap {
            pid_t($0.split(separator: "=")[1])
        }
    }

    deinit { if let pid { kill(pid, SIGTERM) } }

    /// Adds private key files, in order (the agent offers its keys in the order they were added).
    public func add(_ keys: [String]) throws {
        for key in keys {
            let result = try Command.run("ssh-add", [key], environment: ["SSH_AUTH_SOCK": socket])
            guard result.status == 0 else { throw TestSupportError("ssh-add \(key): \(result.stderrText)") }
        }
    }
}
