// Upper bounds on every length a peer can announce, so a hostile or broken peer cannot make us allocate
// without limit. The values are defaults; a server may tighten them.

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
    /// Protocol versions a peer may announce (a server may refuse compressed requests).
    public var versions: Set<UInt32> = ProtocolVersion.supported

    public init() {}

    public static let `default` = WireLimits()
}

/// Protocol versions this codec speaks (distcc's numbering): 1 sends bodies as they are, 2 compresses the
/// bodies (DOTI, DOTO, SERR, SOUT) with LZO1X (`doc/protocol-2.txt`, every stock distccd), 4 with zstd
/// (`doc/protocol-2.1.txt`: the frame's parameter is the compressed length). Version 3 is distcc's pump
/// mode, which sshcc does not speak. Version 5 is sshcc's own: version 4 whose source may come in pieces
/// (`DOTC` frames before the `DOTI`) while the client still preprocesses. A reply uses its request's version.
public enum ProtocolVersion {
    public static let plain: UInt32 = 1
    public static let lzo: UInt32 = 2
    public static let zstd: UInt32 = 4
    public static let zstdStreamed: UInt32 = 5
    public static let supported: Set<UInt32> = [plain, lzo, zstd, zstdStreamed]
    public static let current: UInt32 = plain
}
