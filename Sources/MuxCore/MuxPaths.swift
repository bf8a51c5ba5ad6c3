// Where the per-user mux daemon lives: SSHCC_DIR, else $XDG_RUNTIME_DIR/sshcc, else /tmp/sshcc-$UID
// (README, "Using it"). The directory is 0700; the socket, lock, pid and log files are inside it.

public struct MuxPaths: Sendable, Equatable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// The directory from the environment's values (pure, so it is testable).
    public static func resolve(sshccDir: String?, runtimeDir: String?, uid: UInt32) -> MuxPaths {
        if let dir = sshccDir, !dir.isEmpty { return MuxPaths(directory: dir) }
        if let runtime = runtimeDir, runtime.hasPrefix("/") { return MuxPaths(directory: runtime + "/sshcc") }
        return MuxPaths(directory: "/tmp/sshcc-\(uid)")
    }

    public var socket: String { directory + "/mux.sock" }
    /// Held by a wrapper while it starts a daemon, so 32 wrappers at once start one.
    public var startLock: String { directory + "/mux.lock" }
    public var pidFile: String { directory + "/mux.pid" }
    public var log: String { directory + "/mux.log" }
}
