// The CA signature on an OpenSSH certificate, checked with swift-crypto: ed25519 and ECDSA (nistp256/384/521)
// CAs, the kinds `ssh-keygen -s` makes by default. An RSA CA is reported as not verifiable rather than
// trusted.

import Crypto
import KnownHostsFormat

public enum CertificateSignature {
    /// Whether `signature` (an SSH signature blob) by the CA key `authority` (an SSH public key blob) is valid
    /// over `data`.
    public static func isValid(authority: [UInt8], signature: [UInt8], data: [UInt8]) -> Bool {
        var key = SSHWireReader(authority)
        var sig = SSHWireReader(signature)
        guard let keyType = key.string().map({ String(decoding: $0, as: UTF8.self) }),
            let sigType = sig.string().map({ String(decoding: $0, as: UTF8.self) }), sigType == keyType,
            let sigBytes = sig.string()
        else { return false }
        switch keyType {
        case "ssh-ed25519":
            guard let raw = key.string(), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
            else { return false }
            return publicKey.isValidSignature(sigBytes, for: data)
        case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
            _ = key.string()  // the curve name, implied by the type
            guard let point = key.string() else { return false }
            var parts = SSHWireReader(sigBytes)
            guard let r = parts.string(), let s = parts.string() else { return false }
            let size = keyType.hasSuffix("256") ? 32 : keyType.hasSuffix("384") ? 48 : 66
            guard let raw = fixed(r, size).flatMap({ r in fixed(s, size).map { r + $0 } }) else { return false }
            switch size {
            case 32:
                guard let publicKey = try? P256.Signing.PublicKey(x963Representation: point),
                    let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw)
                else { return false }
                return publicKey.isValidSignature(signature, for: data)
            case 48:
                guard let publicKey = try? P384.Signing.PublicKey(x963Representation: point),
                    let signature = try? P384.Signing.ECDSASignature(rawRepresentation: raw)
                else { return false }
                return publicKey.isValidSignature(signature, for: data)
            default:
                guard let publicKey = try? P521.Signing.PublicKey(x963Representation: point),
                    let signature = try? P521.Signing.ECDSASignature(rawRepresentation: raw)
                else { return false }
                return publicKey.isValidSignature(signature, for: data)
            }
        default:
            return false
        }
    }

    /// An SSH mpint as exactly `size` big-endian bytes, or nil if it does not fit.
    static func fixed(_ mpint: [UInt8], _ size: Int) -> [UInt8]? {
        let trimmed = Array(mpint.drop(while: { $0 == 0 }))
        guard trimmed.count <= size else { return nil }
        return [UInt8](repeating: 0, count: size - trimmed.count) + trimmed
    }
}
