// OpenSSHCertificate ↔ Sources/KnownHostsFormat/OpenSSHCertificate.swift and CertificateSignature (swift-crypto):
// certificates made by `ssh-keygen -s CA -h` (an ed25519 CA and an ECDSA P-384 CA) read, verified, and each
// rule of OpenSSH's check_host_cert applied; a flipped byte anywhere breaks the signature.

import Foundation
import KnownHostsFormat
import SSH
import Testing

@Suite struct HostCertificateTests {
    // `-n 'build*.example.org,10.0.0.7' -V 20250101:20350101`, CA ed25519.
    static let edCertificate = Array(
        Data(
            base64Encoded:
                "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIM6d9E/Zgi6B9hDvyxF2SdLFsdIwFuxjWQyzdcjPiYJrAAAAIHIxa52dV6ZjsVXNlLMYeht386dmNivATPH3LI1XJ3KkAAAAAAAAAAAAAAACAAAAA3dlYgAAACIAAAASYnVpbGQqLmV4YW1wbGUub3JnAAAACDEwLjAuMC43AAAAAGd0hYAAAAAAekMrgAAAAAAAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgu5YeFhLfNqxzGw7mb4Jea/UCBrpO8e6EP2eiHJ9ukncAAABTAAAAC3NzaC1lZDI1NTE5AAAAQKorHBFY3xO2bck6ahWBsUcEadra332ukJN+wZZ/vC59k8W6EtEOOopLsWZwuiI7l7AcJmxhuPWXg9UCpZsA0Qo="
        )!)
    // The same host key, `-n b.example.org`, CA ecdsa-sha2-nistp384.
    static let ecCertificate = Array(
        Data(
            base64Encoded:
                "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIPT0C7/uwrgyhtXSzUVODm4pypBMddhLNL/7ixa7H/1mAAAAIHIxa52dV6ZjsVXNlLMYeht386dmNivATPH3LI1XJ3KkAAAAAAAAAAAAAAACAAAABHdlYjIAAAARAAAADWIuZXhhbXBsZS5vcmcAAAAAZ3SFgAAAAAB6QyuAAAAAAAAAAAAAAAAAAAAAiAAAABNlY2RzYS1zaGEyLW5pc3RwMzg0AAAACG5pc3RwMzg0AAAAYQTI11MDKhs8qzvmMdfec24nKYCQiyEMYIPsFhWOIhL1euV+dM5Wv1iwNY0poxpWTOpz3ZO/kv/ZOaNVt6EVCa+Uo4fiwNFjknqbqPxQWJ6a0SNujuBwbSNw8WGZuGg38EkAAACEAAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAABpAAAAMB0Bw+k0SJP5ovElL8pyeGBPxs1lg9x+L9eZrX6of0CVdkm0qVy+0lZuwfDiupgVUAAAADEAoR4UyFIFErI+sfJCcrprzgHzQYkCzxiN5H9n0J6psn1my8ed11XcR++CmYUU12Vd"
        )!)
    static let hostKey = Array(
        Data(base64Encoded: "AAAAC3NzaC1lZDI1NTE5AAAAIHIxa52dV6ZjsVXNlLMYeht386dmNivATPH3LI1XJ3Kk")!)
    static let edCA = Array(
        Data(base64Encoded: "AAAAC3NzaC1lZDI1NTE5AAAAILuWHhYS3zascxsO5m+CXmv1Aga6TvHuhD9nohyfbpJ3")!)
    static let ecCA = Array(
        Data(
            base64Encoded:
                "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBMjXUwMqGzyrO+Yx195zbicpgJCLIQxgg+wWFY4iEvV65X50zla/WLA1jSmjGlZM6nPdk7+S/9k5o1W3oRUJr5Sjh+LA0WOSepuo/FBYnprRI26O4HBtI3DxYZm4aDfwSQ=="
        )!)
    static let now: UInt64 = 1_800_000_000  // 2027

    static func problem(
        _ certificate: OpenSSHCertificate, name: String = "build3.example.org", now: UInt64 = now,
        authorities: [[UInt8]] = [edCA, ecCA], revoked: [[UInt8]] = []
    ) -> String? {
        certificate.problem(
            hostKey: hostKey, hostName: name, now: now, authorities: authorities, isRevoked: { revoked.contains($0) },
            signatureIsValid: CertificateSignature.isValid)
    }

    @Test func readsWhatSshKeygenWrote() throws {
        let certificate = try #require(OpenSSHCertificate(blob: Self.edCertificate))
        #expect(certificate.type == "ssh-ed25519-cert-v01@openssh.com")
        #expect(certificate.role == 2 && certificate.keyID == "web")
        #expect(certificate.principals == ["build*.example.org", "10.0.0.7"])
        #expect(certificate.keyBlob == Self.hostKey && certificate.authorityKey == Self.edCA)
        #expect(OpenSSHCertificate(blob: Array(Self.edCertificate.dropLast())) == nil)
        #expect(OpenSSHCertificate(blob: Self.hostKey) == nil)
    }

    @Test func everyRuleOfOpenSSH() throws {
        let ed = try #require(OpenSSHCertificate(blob: Self.edCertificate))
        let ec = try #require(OpenSSHCertificate(blob: Self.ecCertificate))
        #expect(Self.problem(ed) == nil)
        #expect(Self.problem(ed, name: "10.0.0.7") == nil)
        #expect(Self.problem(ec, name: "b.example.org") == nil)
        #expect(Self.problem(ed, name: "evil.example.org")?.contains("not evil.example.org") == true)
        #expect(Self.problem(ec, name: "build3.example.org") != nil)
        #expect(Self.problem(ed, authorities: [Self.ecCA])?.contains("not an @cert-authority") == true)
        #expect(Self.problem(ed, revoked: [Self.edCA])?.contains("CA key is marked @revoked") == true)
        #expect(Self.problem(ed, revoked: [Self.hostKey])?.contains("host key is marked @revoked") == true)
        #expect(
            Self.problem(ed, now: 1_700_000_000)?.contains("not valid yet (valid from 2025-01-01 00:00:00 UTC)") == true
        )
        #expect(Self.problem(ed, now: 2_100_000_000)?.contains("expired (valid until 2035-01-01 00:00:00 UTC)") == true)
        var other = ed
        other.keyBlob = Self.edCA
        #expect(
            other.problem(
                hostKey: Self.hostKey, hostName: "build3.example.org", now: Self.now, authorities: [Self.edCA],
                isRevoked: { _ in false }, signatureIsValid: { _, _, _ in true })?.contains("another key") == true)
    }

    /// A flipped bit in any signed byte (principals, validity, key…) or in the signature is caught.
    @Test func aTamperedCertificateDoesNotVerify() throws {
        for blob in [Self.edCertificate, Self.ecCertificate] {
            let good = try #require(OpenSSHCertificate(blob: blob))
            #expect(
                CertificateSignature.isValid(authority: good.authorityKey, signature: good.signature, data: good.signed)
            )
            var tampered = 0
            for index in stride(from: 0, to: good.signed.count, by: 7) {
                var data = good.signed
                data[index] ^= 0x01
                if !CertificateSignature.isValid(authority: good.authorityKey, signature: good.signature, data: data) {
                    tampered += 1
                }
            }
            #expect(tampered == (good.signed.count + 6) / 7)
            var signature = good.signature
            signature[signature.count - 3] ^= 0x80
            #expect(
                !CertificateSignature.isValid(authority: good.authorityKey, signature: signature, data: good.signed))
            // The other CA's key does not verify it either.
            let otherCA = good.authorityKey == Self.edCA ? Self.ecCA : Self.edCA
            #expect(!CertificateSignature.isValid(authority: otherCA, signature: good.signature, data: good.signed))
        }
    }
}
