// Private scratch directories for tests, removed when the value goes away.

import Foundation

/// A private scratch directory, removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "sshcc-test") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            at: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = base.path
    }

    deinit {
        stopMuxDaemon()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The mux daemon directory tests give sshcc inside this directory (SSHCC_DIR).
    public var muxDirectory: String { path + "/mux" }

    /// The PID of the mux daemon a test's wrapper started in `muxDirectory`, if it runs.
    public var muxDaemonPID: pid_t? {
        guard let text = try? String(contentsOfFile: muxDirectory + "/mux.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// Stops that daemon by its PID (SIGTERM), waiting up to 2 s for it to go.
    public func stopMuxDaemon() { stopMuxDaemon(in: muxDirectory) }

    /// Stops the mux daemon whose pid file is in `directory` (a test's own), if it runs.
    public func stopMuxDaemon(in directory: String) {
        guard let text = try? String(contentsOfFile: directory + "/mux.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0
        else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
    }

    /// Writes a file (creating directories) and returns its path.
    @discardableResult
    public func write(_ relative: String, _ contents: String) throws -> String {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    public func read(_ relative: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative))
    }
    public func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path + "/" + relative) }
}
