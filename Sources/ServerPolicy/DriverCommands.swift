// What gcc's driver would run for a compile step on the server, so that sshccd can run cc1 and `as`
// itself: a driver process per step costs ~1.5 ms of CPU and its exit is on the job's critical path. The
// command lines are derived once per flag set with placeholder paths and then given each job's directory
// and file stem. Pure text handling; sshccd runs the driver (SSHCCServer/DirectSteps.swift).

import CompileCore

extension DriverCommands {
    /// Stand-ins for the job's directory and file stem while a step is derived: absolute, and unlike anything
    /// a checked command line holds (it may hold no paths at all).
    public static let directoryToken = "/sshccd-job-directory"
    public static let stemToken = "sshccd-job-stem"

    /// `arguments` with the job's `directory` and `stem` (which appear only together, in its paths) replaced
    /// by the tokens; nil when an argument already holds a token, so that no job's text could become a path.
    public static func template(_ arguments: [String], directory: String, stem: String) -> [String]? {
        guard !arguments.contains(where: { $0.contains(directoryToken) || $0.contains(stemToken) }) else {
            return nil
        }
        return arguments.map { $0.replacing(directory + "/" + stem, with: directoryToken + "/" + stemToken) }
    }

    /// A derived command with the tokens replaced by a job's `directory` and `stem`.
    public static func instantiate(_ command: [String], directory: String, stem: String) -> [String] {
        command.map { $0.replacing(directoryToken, with: directory).replacing(stemToken, with: stem) }
    }
}
