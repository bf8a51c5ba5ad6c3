// One cache entry on disk: a whole reply (status, stdout, stderr, object) under the key it answers, with a
// SHA-256 of everything before it. A reader checks the magic, that the key stored is the key it asked for (a
// file linked or renamed under another key's name is not that key's answer), the lengths and the checksum;
// anything else is a damaged entry, never served. Pure.

import Crypto

public struct CachedReply: Equatable, Sendable {
    public var status: UInt32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var object: [UInt8]

    public init(status: UInt32, stdout: [UInt8], stderr: [UInt8], object: [UInt8]) {
        (self.status, self.stdout, self.stderr, self.object) = (status, stdout, stderr, object)
    }
}

public enum CacheEntry {
    static let magic = Array("sshcc-object 1\n".utf8)
    /// Magic, key, status and three lengths; then the three texts; then the checksum.
    static let headerLength = magic.count + 32 + 4 * 4
    static let checksumLength = 32

    public static func encode(_ reply: CachedReply, key: CacheKey) -> [UInt8] {
        var bytes = magic + key.bytes
        for number in [
            reply.status, UInt32(reply.stdout.count), UInt32(reply.stderr.count), UInt32(reply.object.count),
        ] {
            bytes += [UInt8(number >> 24), UInt8(number >> 16 & 0xff), UInt8(number >> 8 & 0xff), UInt8(number & 0xff)]
        }
        bytes += reply.stdout + reply.stderr + reply.object
        return bytes + Array(SHA256.hash(data: bytes))
    }

    public enum Damage: Error, Equatable, CustomStringConvertible {
        case notAnEntry
        case otherKey
        case truncated
        case checksum

        public var description: String {
            switch self {
            case .notAnEntry: "not a cache entry"
            case .otherKey: "it holds another key's answer"
            case .truncated: "its lengths do not add up"
            case .checksum: "its checksum does not match its contents"
            }
        }
    }

    public static func decode(_ bytes: [UInt8], key: CacheKey) throws(Damage) -> CachedReply {
        guard bytes.count >= headerLength + checksumLength, bytes.starts(with: magic) else { throw .notAnEntry }
        guard Array(bytes[magic.count..<magic.count + 32]) == key.bytes else { throw .otherKey }
        func number(_ index: Int) -> UInt32 {
            let at = magic.count + 32 + index * 4
            return bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let lengths = (1...3).map { Int(number($0)) }
        guard headerLength + lengths.reduce(0, +) + checksumLength == bytes.count else { throw .truncated }
        let body = bytes[..<(bytes.count - checksumLength)]
        guard Array(SHA256.hash(data: body)) == Array(bytes[(bytes.count - checksumLength)...]) else {
            throw .checksum
        }
        var at = headerLength
        func take(_ count: Int) -> [UInt8] {
            defer { at += count }
            return Array(bytes[at..<at + count])
        }
        return CachedReply(
            status: number(0), stdout: take(lengths[0]), stderr: take(lengths[1]), object: take(lengths[2]))
    }
}
