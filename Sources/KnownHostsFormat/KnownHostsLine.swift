// OpenSSH's known_hosts format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), read line by line the way OpenSSH's
// hostfile.c reads it: leading blanks skipped, `#` comments, an optional `@cert-authority` or `@revoked`
// marker, then the host patterns, the key type and the base64 key, separated by spaces or tabs; a CR before
// the line end is tolerated. Pure: bytes in, lines out. A line that is not of that shape is kept as
// `.unreadable` with its tokens (split at any blank), so that the checker can be stricter with it — a
// revocation it cannot read must never let a key through.

public struct KnownHostsEntry: Equatable, Sendable {
    public enum Marker: Equatable, Sendable { case plain, certAuthority, revoked }

    public var marker: Marker
    /// The comma-separated host patterns field, as written.
    public var hosts: String
    public var keyType: String
    public var keyBase64: String
    /// 1-based line number, for messages.
    public var line: Int
}

public enum KnownHostsLine: Equatable, Sendable {
    case entry(KnownHostsEntry)
    /// A line OpenSSH would not use: an unknown marker, too few fields, a key that is not base64. `marker` is
    /// what its first token looks like when it starts with `@` (lowercased), so a damaged `@revoked` is known.
    case unreadable(line: Int, marker: String?, tokens: [String])

    /// The entries and unreadable lines of a known_hosts file (blank lines and comments left out).
    public static func parse(_ bytes: [UInt8]) -> [KnownHostsLine] {
        var lines: [KnownHostsLine] = []
        var number = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if let line = parse(raw, number: number) { lines.append(line) }
        }
        return lines
    }

    /// One line without its `\n`; nil for a blank line or a comment.
    static func parse(_ raw: ArraySlice<UInt8>, number: Int) -> KnownHostsLine? {
        var text = raw
        if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
        let fields = text.split(whereSeparator: isFieldBlank).map { String(decoding: $0, as: UTF8.self) }
        guard let first = fields.first, !first.hasPrefix("#") else { return nil }
        let unreadable = KnownHostsLine.unreadable(
            line: number, marker: first.hasPrefix("@") ? first.lowercased() : nil,
            tokens: raw.split(whereSeparator: isAnyBlank).map { String(decoding: $0, as: UTF8.self) })
        var rest = fields[...]
        var marker = KnownHostsEntry.Marker.plain
        if first.hasPrefix("@") {
            switch first {
            case "@cert-authority": marker = .certAuthority
            case "@revoked": marker = .revoked
            default: return unreadable
            }
            rest = rest.dropFirst()
        }
        // hosts, type, key, and an optional comment (which may hold blanks).
        guard rest.count >= 3 else { return unreadable }
        let hosts = rest[rest.startIndex]
        let type = rest[rest.startIndex + 1]
        let key = rest[rest.startIndex + 2]
        guard !type.isEmpty, type.allSatisfy(isTypeCharacter), isBase64(key) else { return unreadable }
        return .entry(KnownHostsEntry(marker: marker, hosts: hosts, keyType: type, keyBase64: key, line: number))
    }

    /// OpenSSH separates fields with spaces and tabs only.
    static func isFieldBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// Any blank at all: how an unreadable line is cut into tokens to look for a key in it.
    static func isAnyBlank(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) || byte == 0 }

    static func isTypeCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-@._".contains(character))
    }

    static func isBase64(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count % 4 == 0
            && text.utf8.allSatisfy { byte in
                (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
                    || byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
            }
    }
}

/// What known_hosts says about a key offered by a server, before host names are looked at: the revocations.
public enum KnownHostsRevocation: Equatable, Sendable {
    case notRevoked
    /// The key is listed `@revoked` (or appears in a marker line sshcc cannot read) at this line.
    case revoked(line: Int)
    /// A line that looks like a revocation cannot be read: no key can be trusted until it is fixed.
    case unreadable(line: Int)

    /// Looks for `keyBase64` among the revocations of `lines`.
    public static func check(_ keyBase64: String, in lines: [KnownHostsLine]) -> KnownHostsRevocation {
        var damaged: Int?
        for line in lines {
            switch line {
            case .entry(let entry):
                if entry.marker == .revoked && entry.keyBase64 == keyBase64 { return .revoked(line: entry.line) }
            case .unreadable(let number, let marker, let tokens):
                // Stricter, never looser: the key anywhere in a marker line that sshcc cannot read counts as
                // revoked; a `@revoked`-like line with no readable key in it stops every key.
                guard let marker else { continue }
                if tokens.contains(keyBase64) { return .revoked(line: number) }
                if marker.hasPrefix("@rev") && damaged == nil { damaged = number }
            }
        }
        return damaged.map { .unreadable(line: $0) } ?? .notRevoked
    }
}
