// KnownHostsLine ↔ KnownHostsLine.swift: known_hosts read as OpenSSH's hostfile.c reads it, and revocations
// that a damaged line can only make stricter. Each revocation row has its control: the same key is not
// revoked by a file without that line.

import Foundation
import KnownHostsFormat
import Testing

@Suite struct KnownHostsLineTests {
    static let key = "AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFakeKeyFakeKeyFakeKeyFake"
    static let other = "AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOthe"

    static func entries(_ text: String) -> [KnownHostsEntry] {
        KnownHostsLine.parse(Array(text.utf8)).compactMap {
            if case .entry(let entry) = $0 { entry } else { nil }
        }
    }

    @Test(arguments: [
        "build1 ssh-ed25519 KEY", "build1\tssh-ed25519\tKEY", "  build1  ssh-ed25519 KEY comment words",
        "build1 ssh-ed25519 KEY\r", "\tbuild1 ssh-ed25519 KEY # trailing",
    ])
    func plainEntriesInEverySpacing(_ line: String) {
        let found = Self.entries(line.replacingOccurrences(of: "KEY", with: Self.key) + "\n")
        #expect(found.count == 1)
        #expect(found.first?.hosts == "build1" && found.first?.keyBase64 == Self.key && found.first?.marker == .plain)
    }

    @Test(arguments: ["# build1 ssh-ed25519 KEY", "   # x", "", "\r", "   "])
    func commentsAndBlankLinesAreNothing(_ line: String) {
        #expect(KnownHostsLine.parse(Array(line.replacingOccurrences(of: "KEY", with: Self.key).utf8)).isEmpty)
    }

    /// A revocation in every spelling OpenSSH accepts, and the damaged ones it would not read: the key is
    /// refused either way.
    @Test(arguments: [
        "@revoked * ssh-ed25519 KEY", "@revoked\t*\tssh-ed25519\tKEY", "@revoked * ssh-ed25519 KEY\r",
        "  @revoked * ssh-ed25519 KEY", "@revoked\u{0B}*\u{0B}ssh-ed25519\u{0B}KEY", "@REVOKED * ssh-ed25519 KEY",
        "@revoked * KEY", "@revokedx * ssh-ed25519 KEY", "@revoked\u{0C}* ssh-ed25519 KEY",
    ])
    func revokedKeysAreRefusedHoweverWritten(_ line: String) {
        let text = "build1 ssh-ed25519 \(Self.key)\n" + line.replacingOccurrences(of: "KEY", with: Self.key) + "\n"
        let verdict = KnownHostsRevocation.check(Self.key, in: KnownHostsLine.parse(Array(text.utf8)))
        #expect(verdict == .revoked(line: 2), "\(line): \(verdict)")
        let control = KnownHostsRevocation.check(
            Self.key, in: KnownHostsLine.parse(Array("build1 ssh-ed25519 \(Self.key)\n".utf8)))
        #expect(control == .notRevoked)
    }

    @Test(arguments: ["@revoked", "@revoked *", "@revoked * ssh-ed25519 not-base64!", "@revoked\t*\tssh-ed25519"])
    func aRevocationThatCannotBeReadStopsEveryKey(_ line: String) {
        let verdict = KnownHostsRevocation.check(Self.key, in: KnownHostsLine.parse(Array((line + "\n").utf8)))
        #expect(verdict == .unreadable(line: 1), "\(line): \(verdict)")
    }

    @Test func otherKeysAreNotRevokedByAReadableRevocation() {
        let lines = KnownHostsLine.parse(Array("@revoked * ssh-ed25519 \(Self.other)\n".utf8))
        #expect(KnownHostsRevocation.check(Self.key, in: lines) == .notRevoked)
        #expect(KnownHostsRevocation.check(Self.other, in: lines) == .revoked(line: 1))
    }

    @Test func markersAndMalformedLines() {
        let text = """
            @cert-authority *.example ssh-ed25519 \(Self.key)
            @unknown build1 ssh-ed25519 \(Self.other)
            build1 ssh-ed25519
            build2 ssh-ed25519 \(Self.other)
            """
        let lines = KnownHostsLine.parse(Array(text.utf8))
        #expect(lines.count == 4)
        #expect(Self.entries(text).map(\.marker) == [.certAuthority, .plain])
        // The key in an unknown marker line counts as revoked: stricter, never looser.
        #expect(KnownHostsRevocation.check(Self.other, in: lines) == .revoked(line: 2))
    }
}
