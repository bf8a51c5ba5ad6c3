// The distcc frame tokens and their header layout: a 4-letter ASCII token and 8 lowercase hex digits.
// Pure data; the reader and writer live in FrameReader.swift and WireEncoder.swift.

/// A distcc packet token. Bodies follow the header only for the "string" tokens.
public enum Token: String, Sendable, CaseIterable {
    case dist = "DIST", argc = "ARGC", argv = "ARGV", doti = "DOTI"
    /// A piece of the source ahead of its DOTI (protocol 5 only: the source streamed as it is produced).
    case dotc = "DOTC"
    case done = "DONE", stat = "STAT", serr = "SERR", sout = "SOUT", doto = "DOTO"
    /// The server's load after the job, as text (protocol 6 only: the reply's last frame, never compressed).
    case load = "LOAD"
    /// Version 7: the SHA-256 of the whole source in place of the source (the client asks for a result it
    /// expects the server's object cache to hold), and the server's answer when it has none: send the source.
    case doth = "DOTH", need = "NEED"

    /// `true` when the header's value is the length of a body that follows it.
    public var hasBody: Bool {
        switch self {
        case .argv, .doti, .dotc, .serr, .sout, .doto, .load, .doth: true
        case .dist, .argc, .done, .stat, .need: false
        }
    }

    var bytes: [UInt8] { Array(rawValue.utf8) }
}

/// A frame header is always 12 bytes: 4 token bytes and 8 hex digits (distcc `doc/protocol-1.txt`).
/// The mux protocol between the wrapper and its daemon uses the same layout with its own 4-letter kinds.
public enum FrameHeader {
    public static let size = 12

    /// Appends a header: the 4 `tag` bytes and `value` as 8 lowercase hex digits.
    public static func append(_ tag: some Collection<UInt8>, _ value: UInt32, to out: inout [UInt8]) {
        out.append(contentsOf: tag)
        for shift in stride(from: 28, through: 0, by: -4) {
            let nibble = UInt8((value >> UInt32(shift)) & 0xf)
            out.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }

    /// The value of 8 hex digits (either case, as distcc reads them); nil if one is not a hex digit.
    public static func value(_ digits: some Collection<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for digit in digits {
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }
}
