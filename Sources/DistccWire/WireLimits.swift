// Upper bounds on every length a peer can announce, so a hostile or broken peer cannot make us allocate
// without limit. The values are defaults; a server may tighten them.

/// Limits applied while decoding. Exceeding one is a protocol error that names the limit.
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

    public init() {}

    public static let `default` = WireLimits()
}

/// Protocol versions this codec speaks. Version 1: uncompressed, preprocessed on the client.
public enum ProtocolVersion {
    public static let supported: Set<UInt32> = [1]
    public static let current: UInt32 = 1
}
