// Why a remote compile did not happen: the exit code sshcc uses when it may not fall back, a one-line
// summary for the fallback warning, and any longer explanation the user needs to fix it.

/// A failure of sshcc's own (never a compile error, which is the user's and passes through).
public struct SSHCCFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: ExitCode
    /// One line, without the `sshcc:` prefix.
    public var summary: String
    /// Further lines that explain the fix (host key instructions and the like).
    public var details: [String]

    public init(_ code: ExitCode, _ summary: String, details: [String] = []) {
        self.code = code
        self.summary = summary
        self.details = details
    }

    public var description: String { ([summary] + details).joined(separator: "\n") }
}
