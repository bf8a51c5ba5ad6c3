// An OpenSSH certificate's public key (PROTOCOL.certkeys), enough to pair a `-cert.pub` or CertificateFile with
// the identity it certifies and to tell whether libssh2 can sign with it. Pure: blob in, facts out.
//
// A certificate blob is `string type, string nonce, <the key's own fields>, …`; the plain key's blob is
// `string plain type, <the same fields>`. libssh2 1.10 signs only ECDSA certificates correctly: for every
// other type it names the signature after the certificate type (userauth.c's plain_method_len knows only
// the ECDSA names), and sshd rejects such a signature.

public struct UserCertificate: Equatable, Sendable {
    /// `ssh-ed25519-cert-v01@openssh.com`…
    public var type: String
    /// The certificate blob as sent to the server.
    public var blob: [UInt8]
    /// The blob of the key it certifies (`ssh-ed25519`…), to find that key among the configured ones.
    public var keyBlob: [UInt8]

    static let suffix = "-cert-v01@openssh.com"

    /// The certificate in `blob`, or nil if it is not one sshcc understands.
    public init?(blob: [UInt8]) {
        var reader = WireReader(blob)
        guard let typeBytes = reader.string() else { return nil }
        let type = String(decoding: typeBytes, as: UTF8.self)
        guard type.hasSuffix(Self.suffix), reader.string() != nil else { return nil }  // the nonce
        let plain = String(type.dropLast(Self.suffix.count))
        // How many wire strings the key itself has after its type.
        let fields: Int
        switch plain {
        case "ssh-ed25519": fields = 1
        case "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521": fields = 2
        default: return nil
        }
        var key = WireReader.encode(Array(plain.utf8))
        for _ in 0..<fields {
            guard let field = reader.string() else { return nil }
            key += WireReader.encode(field)
        }
        self.type = type
        self.blob = blob
        self.keyBlob = key
    }

    /// Whether libssh2 1.10 can make a signature sshd accepts with it.
    public var signableByLibssh2: Bool { type.hasPrefix("ecdsa-sha2-") }

    /// Why it cannot be used, for the failure message.
    public var unusableReason: String {
        "is a \(type) certificate, which this libssh2 (1.10) cannot sign with (it does so only for ECDSA keys); "
            + "use an ECDSA key's certificate (ssh-keygen -t ecdsa), or authorize the key itself"
    }

    /// Whether an algorithm name is a certificate's.
    public static func isCertificate(_ algorithm: String) -> Bool { algorithm.hasSuffix(suffix) }
}

/// SSH wire strings (RFC 4251 §5).
struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func string() -> [UInt8]? {
        guard offset + 4 <= bytes.count else { return nil }
        let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= bytes.count - offset - 4 else { return nil }
        defer { offset += 4 + length }
        return Array(bytes[offset + 4..<offset + 4 + length])
    }

    static func encode(_ field: [UInt8]) -> [UInt8] {
        let n = UInt32(field.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + field
    }
}
