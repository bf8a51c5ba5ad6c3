// How sshccd refuses a job, and how far the refusal reaches: this job alone (its arguments, its source, its
// size), every job of one compiler there (not allowed, not installed), or every job the host would get (its
// configuration is broken, it cannot make a job directory). The reply's status is ExitCode.serverRefused
// and its stderr `sshccd: MESSAGE`, as distcc clients expect; a refusal wider than the job adds a second line
// `sshccd-scope: compiler|host` that sshcc reads (Docs/protocol.md, "Refusals"). Older servers send no scope:
// their refusals count as the job's own.

public enum RefusalScope: String, Sendable, Equatable {
    case job, compiler, host
}

public struct ServerRefusal: Sendable, Equatable {
    public var message: String
    public var scope: RefusalScope

    public init(_ message: String, scope: RefusalScope = .job) {
        self.message = message
        self.scope = scope
    }

    static let prefix = "sshccd: "
    static let scopeLine = "sshccd-scope: "

    /// The reply's stderr.
    public var stderr: [UInt8] {
        Array((Self.prefix + message + "\n" + (scope == .job ? "" : Self.scopeLine + scope.rawValue + "\n")).utf8)
    }

    /// The refusal in a reply (`exitCode` its status), or nil when the reply is a compile's.
    public init?(exitCode: Int32?, stderr: [UInt8]) {
        guard exitCode == ExitCode.serverRefused.rawValue, stderr.starts(with: Array(Self.prefix.utf8)) else {
            return nil
        }
        let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n")
        message = lines.first.map { String($0.dropFirst(Self.prefix.count)) } ?? ""
        scope =
            lines.dropFirst().compactMap { line in
                line.hasPrefix(Self.scopeLine)
                    ? RefusalScope(rawValue: String(line.dropFirst(Self.scopeLine.count))) : nil
            }.first ?? .job
    }
}
