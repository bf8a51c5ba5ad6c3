// Which known_hosts lines are about a host, as OpenSSH's match.c and hostfile.c decide it: the hosts field
// is either one hashed name (`|1|base64 salt|base64 HMAC-SHA1(salt, name)`) or a comma-separated list of
// patterns with `*` and `?`, compared without regard to case, where a matching `!pattern` rules the host out
// whatever else matches. Pure: the HMAC comes from the caller, so this target needs no crypto library.

/// HMAC-SHA1(key, message): what a hashed known_hosts name is made of.
public typealias HMACSHA1 = @Sendable (_ key: [UInt8], _ message: [UInt8]) -> [UInt8]

public enum HostPatterns {
    /// True when the hosts field `field` names `name` (`host` or `[host]:port`, as OpenSSH looks it up).
    public static func matches(_ name: String, field: String, hmac: HMACSHA1) -> Bool {
        if field.hasPrefix("|") { return hashedMatches(name, field: field, hmac: hmac) }
        let host = name.lowercased()
        var matched = false
        for pattern in field.split(separator: ",", omittingEmptySubsequences: true) {
            let negated = pattern.hasPrefix("!")
            let body = negated ? pattern.dropFirst() : pattern[...]
            guard glob(Array(body.lowercased().utf8)[...], Array(host.utf8)[...]) else { continue }
            if negated { return false }
            matched = true
        }
        return matched
    }

    /// `|1|salt|hash`; any other `|` form is a name OpenSSH cannot match either.
    static func hashedMatches(_ name: String, field: String, hmac: HMACSHA1) -> Bool {
        let parts = field.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, parts[1] == "1",
            let salt = Base64Text.decode(String(parts[2])), salt.count == 20,
            let hash = Base64Text.decode(String(parts[3])), hash.count == 20
        else { return false }
        return hmac(salt, Array(name.utf8)) == hash
    }

    /// OpenSSH's match_pattern: `*` any run of bytes (also none), `?` exactly one.
    static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        var star: (pattern: Int, text: Int)?
        while t < text.endIndex {
            if p < pattern.endIndex && (pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if p < pattern.endIndex && pattern[p] == UInt8(ascii: "*") {
                star = (p, t)
                p += 1
            } else if let last = star {
                // Let the last `*` swallow one more byte and try again from there.
                p = last.pattern + 1
                t = last.text + 1
                star = (last.pattern, last.text + 1)
            } else {
                return false
            }
        }
        while p < pattern.endIndex && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }
}

/// Standard base64 (with padding), strict: what known_hosts writes.
public enum Base64Text {
    public static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4 * 3)
        var index = 0
        while index < bytes.count {
            var group: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = bytes[index + offset]
                let value: UInt32
                if byte == UInt8(ascii: "=") && index + 4 == bytes.count && offset >= 2 {
                    padding += 1
                    value = 0
                } else if padding > 0 {
                    return nil
                } else if let decoded = sextet(byte) {
                    value = decoded
                } else {
                    return nil
                }
                group = group << 6 | value
            }
            out.append(UInt8(group >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(group >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(group & 0xFF)) }
            index += 4
        }
        return out
    }

    static func sextet(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(byte - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
