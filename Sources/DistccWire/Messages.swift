// The two messages of a distcc job, as values. Field order on the wire is fixed by `doc/protocol-1.txt`
// and by Docs/protocol.md: request DIST ARGC ARGV… DOTI, reply DONE STAT SERR SOUT DOTO.

import CompileCore

/// A compile request: the command line and the preprocessed source.
public struct Request: Equatable, Sendable {
    public var version: DistccVersion
    /// The command line, compiler name first. Strings are valid UTF-8 without NUL bytes.
    public var arguments: [String]
    /// Preprocessed source text (the DOTI body).
    public var source: [UInt8]
    /// Version 7: the SHA-256 of the source, sent in its place (`DOTH`): the request is a question, `source` is
    /// empty, and the server answers with a reply or asks for the source (`NEED`).
    public var sourceDigest: [UInt8]?

    public init(
        version: DistccVersion = DistccVersion.current, arguments: [String], source: [UInt8],
        sourceDigest: [UInt8]? = nil
    ) {
        self.version = version
        self.arguments = arguments
        self.source = source
        self.sourceDigest = sourceDigest
    }

    /// The length of a source digest (SHA-256).
    public static let digestLength = 32
}

/// A compile reply: the compiler's wait status, its messages and the object file.
public struct Reply: Equatable, Sendable {
    public var version: DistccVersion
    /// A Unix wait status: `exit code << 8`, or the terminating signal number in the low 7 bits.
    public var status: UInt32
    public var stderr: [UInt8]
    public var stdout: [UInt8]
    /// The object file; empty when the compile failed.
    public var object: [UInt8]
    /// Version 6: the server's load after the job (ServerLoad's text); empty in other versions.
    public var load: [UInt8]

    public init(
        version: DistccVersion = DistccVersion.current, status: UInt32, stderr: [UInt8] = [], stdout: [UInt8] = [],
        object: [UInt8] = [], load: [UInt8] = []
    ) {
        self.version = version
        self.status = status
        self.stderr = stderr
        self.stdout = stdout
        self.object = object
        self.load = load
    }

    /// Wait status for a normal exit with `code`.
    public static func exitStatus(_ code: Int32) -> UInt32 { UInt32(bitPattern: WaitStatus.exited(code).rawValue) }

    public var wait: WaitStatus { WaitStatus(Int32(bitPattern: status)) }
    /// The exit code when the process exited normally, nil when a signal ended it.
    public var exitCode: Int32? { wait.exitCode }
    /// The signal that ended the compiler, if one did.
    public var terminatingSignal: Int32? { wait.signal }
}
