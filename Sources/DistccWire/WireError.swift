// Errors from decoding distcc frames. Each says what was expected and what came ("protocol derailment" in
// distcc's words), in terms a person reading a log can act on.

/// A decoding failure. `description` is the human-readable message.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The 4 token bytes were not the token the protocol requires at this point.
    case unexpectedToken(expected: Token, got: [UInt8])
    /// The 8 parameter bytes were not lowercase-or-uppercase hex digits.
    case badParameter(token: Token, got: [UInt8])
    /// A DIST or DONE header announced a protocol version we do not speak.
    case unsupportedVersion(token: Token, version: UInt32, speaks: Set<DistccVersion>)
    /// A length or count is over its limit.
    case overLimit(what: String, value: Int, limit: Int)
    /// An argument was not valid UTF-8 or contained a NUL byte.
    case badArgument(index: Int, reason: String)
    /// The stream ended inside a request or reply.
    case truncated(expecting: String, bufferedBytes: Int)
    /// A compressed body (protocol 2 or 4) did not decompress within the limits.
    case badBody(token: Token, reason: String)

    public var description: String {
        switch self {
        case .unexpectedToken(let expected, let got):
            "protocol error: expected token \(expected.rawValue), got \(Self.show(got))"
        case .badParameter(let token, let got):
            "protocol error: \(token.rawValue) parameter must be 8 hex digits, got \(Self.show(got))"
        case .unsupportedVersion(let token, let version, let speaks):
            "protocol error: \(token.rawValue) announces protocol version \(version); this peer speaks version "
                + speaks.sorted().map(\.description).joined(separator: ", ")
                + " (distcc clients: remove ,cpp from the host entry; sshcc clients: add ,plain)"
        case .overLimit(let what, let value, let limit):
            "protocol error: \(what) is \(value), over the limit of \(limit)"
        case .badArgument(let index, let reason):
            "protocol error: argument \(index) \(reason)"
        case .badBody(let token, let reason):
            "protocol error: \(token.rawValue) body: \(reason)"
        case .truncated(let expecting, let buffered):
            "stream ended while expecting \(expecting)"
                + (buffered > 0 ? " (\(buffered) bytes of a partial frame)" : "")
        }
    }

    /// Printable ASCII shown as text, anything else as hex, so garbage is visible in a log line.
    static func show(_ bytes: [UInt8]) -> String {
        let printable = bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
        if printable { return "'" + String(decoding: bytes, as: UTF8.self) + "'" }
        return "bytes "
            + bytes.map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined(separator: " ")
    }
}
