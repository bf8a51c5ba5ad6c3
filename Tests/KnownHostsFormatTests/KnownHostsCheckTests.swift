// HostPatterns and KnownHostsCheck ↔ HostPatterns.swift, KnownHostsCheck.swift: which lines are about a host
// (patterns, negation, hashed names, ports) and what they say about an offered key. The hashed rows use a
// stand-in HMAC (the real one, HMAC-SHA1, is checked against `ssh-keygen -H` in the integration tests).

import KnownHostsFormat
import Testing

@Suite struct KnownHostsCheckTests {
    static let ed = "AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFakeKeyFakeKeyFakeKeyFake"
    static let ed2 = "AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOthe"
    static let ec = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFakeFakeFakeFakeFakeFak"
    /// Stand-in for HMAC-SHA1: 20 bytes that depend on key and message.
    static let hmac: HMACSHA1 = { key, message in
        var out = [UInt8](repeating: 0, count: 20)
        for (i, byte) in (key + message).enumerated() { out[i % 20] = out[i % 20] &* 31 &+ byte }
        return out
    }

    static func sources(_ text: String) -> [KnownHostsSource] {
        [KnownHostsSource(path: "kh", lines: KnownHostsLine.parse(Array(text.utf8)))]
    }

    static func check(_ text: String, name: String = "build1", type: String = "ssh-ed25519", key: String = ed)
        -> KnownHostsFinding
    {
        KnownHostsCheck.check(keyType: type, keyBase64: key, name: name, in: sources(text), hmac: hmac)
    }

    @Test(arguments: [
        ("build1", "build1", true), ("BUILD1", "build1", true), ("build1", "BUILD1", true),
        ("build*", "build1", true), ("build?", "build1", true), ("build?", "build12", false),
        ("*", "anything.example", true), ("b*1", "build1", true), ("*.lan", "build1", false),
        ("other,build1", "build1", true), ("*,!build1", "build1", false), ("!build1,*", "build1", false),
        ("!other,build*", "build1", true), ("!build*", "build1", false), ("[build1]:2222", "[build1]:2222", true),
        ("build1", "[build1]:2222", false), ("[build1]:2222", "build1", false), ("[build*]:*", "[build1]:2222", true),
        ("*1*2*", "x1y2z", true), ("**", "", true), ("a*b*c", "abcabd", false),
    ])
    func patterns(_ field: String, _ name: String, _ expected: Bool) {
        #expect(HostPatterns.matches(name, field: field, hmac: Self.hmac) == expected)
    }

    @Test func hashedNamesMatchOnlyTheirHost() {
        let salt = [UInt8](0..<20)
        let field = "|1|\(Self.base64(salt))|\(Self.base64(Self.hmac(salt, Array("[build1]:2222".utf8))))"
        #expect(HostPatterns.matches("[build1]:2222", field: field, hmac: Self.hmac))
        #expect(!HostPatterns.matches("build1", field: field, hmac: Self.hmac))
        #expect(!HostPatterns.matches("[build1]:2222", field: "|2|" + field.dropFirst(3), hmac: Self.hmac))
        #expect(!HostPatterns.matches("[build1]:2222", field: field + "x", hmac: Self.hmac))
    }

    @Test func findings() {
        #expect(Self.check("build1 ssh-ed25519 \(Self.ed)\n") == .match(.init(path: "kh", line: 1)))
        #expect(Self.check("build1 ssh-ed25519 \(Self.ed2)\n") == .changed(.init(path: "kh", line: 1)))
        // A later matching line does not hide a changed key, nor a change a later match (OpenSSH: any match wins).
        #expect(
            Self.check("build1 ssh-ed25519 \(Self.ed2)\nbuild* ssh-ed25519 \(Self.ed)\n")
                == .match(.init(path: "kh", line: 2)))
        #expect(
            Self.check("build1 ecdsa-sha2-nistp256 \(Self.ec)\n")
                == .otherTypes(.init(path: "kh", line: 1), types: ["ecdsa-sha2-nistp256"]))
        #expect(Self.check("other ssh-ed25519 \(Self.ed2)\n") == .unknown)
        #expect(Self.check("*,!build1 ssh-ed25519 \(Self.ed)\n") == .unknown)
        #expect(
            Self.check("@revoked other ssh-ed25519 \(Self.ed)\nbuild1 ssh-ed25519 \(Self.ed)\n")
                == .revoked(.init(path: "kh", line: 1)))
        #expect(
            Self.check("@cert-authority *.lan ssh-ed25519 \(Self.ed2)\n", name: "b.lan")
                == .certificateExpected(.init(path: "kh", line: 1)))
        #expect(Self.check("@revoked\u{0C}x\n") == .unreadableRevocation(.init(path: "kh", line: 1)))
    }

    @Test func severalFilesAreReadAsOne() {
        let files =
            Self.sources("other ssh-ed25519 \(Self.ed2)\n") + [
                KnownHostsSource(
                    path: "global", lines: KnownHostsLine.parse(Array("build1 ssh-ed25519 \(Self.ed)\n".utf8)))
            ]
        #expect(
            KnownHostsCheck.check(
                keyType: "ssh-ed25519", keyBase64: Self.ed, name: "build1", in: files, hmac: Self.hmac)
                == .match(.init(path: "global", line: 1)))
        let revokedGlobally =
            files + [
                KnownHostsSource(
                    path: "g2", lines: KnownHostsLine.parse(Array("@revoked * ssh-ed25519 \(Self.ed)\n".utf8)))
            ]
        #expect(
            KnownHostsCheck.check(
                keyType: "ssh-ed25519", keyBase64: Self.ed, name: "build1", in: revokedGlobally, hmac: Self.hmac)
                == .revoked(.init(path: "g2", line: 1)))
    }

    @Test func recordedTypesLeadTheAlgorithms() {
        let supported = [
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519", "ssh-rsa", "ssh-dss",
        ]
        func order(_ text: String, _ name: String = "build1") -> [String] {
            KnownHostsCheck.algorithms(for: name, in: Self.sources(text), supported: supported, hmac: Self.hmac)
        }
        let usual = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
        #expect(order("") == usual)
        #expect(order("build1 ssh-ed25519 \(Self.ed)\n") == usual)
        #expect(
            order("build1 ecdsa-sha2-nistp256 \(Self.ec)\n")
                == ["ecdsa-sha2-nistp256", "ssh-ed25519", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"])
        #expect(order("build1 ecdsa-sha2-nistp256 \(Self.ec)\n", "other") == usual)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * UInt32(position)) & 63)] : "=")
            }
            index += 3
        }
        return out
    }

    @Test func base64RoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + length) & 0xFF) }
            #expect(Base64Text.decode(Self.base64(bytes)) == bytes)
        }
        #expect(Base64Text.decode("abc") == nil && Base64Text.decode("ab=c") == nil && Base64Text.decode("a===") == nil)
    }
}
