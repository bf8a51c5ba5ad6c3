// Upper bounds on every length a peer can announce, so a hostile or broken peer cannot make us allocate
// without limit. The values are defaults; a server may tighten them.

import CompileCore

/// Limits applied while decoding. Body limits apply to bodies both as sent and decompressed. Exceeding one is a protocol error that names the limit.
public struct WireLimits: Sendable, Equatable {
    /// Arguments in one command line (ARGC). gcc command lines from real builds stay under a few hundred.
    public var maxArgumentCount: Int = 4096
    /// Bytes in one argument (ARGV).
    public var maxArgumentLength: Int = 64 * 1024
    /// Bytes of preprocessed source (DOTI). Large C++ translation units reach tens of megabytes.
    public var maxSourceLength: Int = 512 * 1024 * 1024
    /// Bytes of compiler stdout or stderr (SOUT, SERR).
    public var maxMessageLength: Int = 16 * 1024 * 1024
    /// Bytes of the object file (DOTO).
    public var maxObjectLength: Int = 512 * 1024 * 1024
    /// Bytes of a reply's LOAD body (a short line of text).
    public var maxLoadLength: Int = 4096
    /// Protocol versions a peer may announce (a server may refuse compressed requests).
    public var versions: Set<DistccVersion> = DistccVersion.supported

    public init() {}

    public static let `default` = WireLimits()
}

/// Protocol versions this codec speaks (distcc's numbering): 1 sends bodies as they are, 2 compresses the
/// bodies (DOTI, DOTO, SERR, SOUT) with LZO1X (`doc/protocol-2.txt`, every stock distccd), 4 with zstd
/// (`doc/protocol-2.1.txt`: the frame's parameter is the compressed length). Version 3 is distcc's pump
/// mode, which sshcc does not speak. Version 5 is sshcc's own: version 4 whose source may come in pieces
/// (`DOTC` frames before the `DOTI`) while the client still preprocesses; version 6 is version 5 whose reply
/// ends with the server's load (`LOAD`); in version 7 the client may first ask for the result by the source's
/// digest (`DOTH`) and send the source only when the server says it needs it (`NEED`). A reply uses its request's
/// version.
public struct DistccVersion: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { rawValue = value }

    public static let plain = DistccVersion(rawValue: 1)
    public static let lzo = DistccVersion(rawValue: 2)
    public static let zstd = DistccVersion(rawValue: 4)
    public static let zstdStreamed = DistccVersion(rawValue: 5)
    /// Version 5 whose replies also say how loaded the server is (a `LOAD` frame after `DOTO`).
    public static let loadReported = DistccVersion(rawValue: 6)
    /// Version 6 in which the client may ask for a result by its source's digest before it sends the source
    /// (`DOTH`, answered by a whole reply or by `NEED`).
    public static let asksFirst = DistccVersion(rawValue: 7)
    public static let supported: Set<DistccVersion> = [plain, lzo, zstd, zstdStreamed, loadReported, asksFirst]
    public static let current = plain

    /// The version whose bodies travel compressed as `compression` says; zstd `streamed` is version 5.
    public init(compression: BodyCompression, streamed: Bool = false) {
        switch compression {
        case .plain: self = .plain
        case .lzo: self = .lzo
        case .zstd: self = streamed ? .asksFirst : .zstd
        }
    }

    /// How this version's bodies are compressed (the one place that says so).
    public var compression: BodyCompression {
        switch self {
        case .lzo: .lzo
        case .zstd, .zstdStreamed, .loadReported, .asksFirst: .zstd
        default: .plain
        }
    }

    /// The source may come in pieces (DOTC) before its DOTI.
    public var streamsSource: Bool { self == .zstdStreamed || self == .loadReported || self == .asksFirst }
    /// The reply ends with the server's load (`LOAD`).
    public var reportsLoad: Bool { self == .loadReported || self == .asksFirst }
    /// The client may send its source's digest first (`DOTH`) and the source only when asked (`NEED`).
    public var asksFirst: Bool { self == .asksFirst }

    public var description: String { String(rawValue) }
    public static func < (a: DistccVersion, b: DistccVersion) -> Bool { a.rawValue < b.rawValue }
}
