// SSH wire-format values, shared by known_hosts keys, certificates, key files and agent blobs.

/// Reads SSH wire-format values (RFC 4251 §5: uint32, uint64, length-prefixed strings); nil past the end.
public struct SSHWireReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset == bytes.count }

    public mutating func uint32() -> UInt32? { integer(4).map(UInt32.init) }
    public mutating func uint64() -> UInt64? { integer(8) }

    private mutating func integer(_ size: Int) -> UInt64? {
        guard bytes.count - offset >= size else { return nil }
        defer { offset += size }
        return bytes[offset..<offset + size].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func string() -> [UInt8]? {
        guard let length = uint32().map(Int.init) else { return nil }
        guard length <= bytes.count - offset else { return nil }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    /// `field` as a wire string: its length, then its bytes.
    public static func encode(_ field: [UInt8]) -> [UInt8] {
        let n = UInt32(field.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + field
    }
}
