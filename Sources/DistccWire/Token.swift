// The distcc frame tokens and their header layout: a 4-letter ASCII token and 8 lowercase hex digits.
// Pure data; the reader and writer live in FrameReader.swift and WireEncoder.swift.

/// A distcc packet token. Bodies follow the header only for the "string" tokens.
public enum Token: String, Sendable, CaseIterable {
    case dist = "DIST", argc = "ARGC", argv = "ARGV", doti = "DOTI"
    /// A piece of the source ahead of its DOTI (protocol 5 only: the source streamed as it is produced).
    case dotc = "DOTC"
    case done = "DONE", stat = "STAT", serr = "SERR", sout = "SOUT", doto = "DOTO"

    /// `true` when the header's value is the length of a body that follows it.
    public var hasBody: Bool {
        switch self {
        case .argv, .doti, .dotc, .serr, .sout, .doto: true
        case .dist, .argc, .done, .stat: false
        }
    }

    var bytes: [UInt8] { Array(rawValue.utf8) }
}

/// A frame header is always 12 bytes: 4 token bytes and 8 hex digits (distcc `doc/protocol-1.txt`).
public enum FrameHeader {
    public static let size = 12
}
