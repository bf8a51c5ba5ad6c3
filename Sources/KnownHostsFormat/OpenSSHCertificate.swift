// An OpenSSH certificate (PROTOCOL.certkeys), user or host, and OpenSSH's rules for trusting a host's
// (sshconnect.c check_host_cert, sshkey_cert_check_authority): a host certificate, of the very key the
// server proved it holds, signed by a CA that an `@cert-authority` line names for the host, the CA not
// revoked, valid now, with a principal matching the host name, and no critical option (none is defined for
// host certificates). Pure: the signature check is handed in, so this file needs no cryptography.

/// A certificate's fields, read from its blob.
public struct OpenSSHCertificate: Equatable, Sendable {
    /// `ssh-ed25519-cert-v01@openssh.com`…
    public var type: String
    /// The certified key's own blob (`ssh-ed25519`, its fields).
    public var keyBlob: [UInt8]
    public var serial: UInt64
    /// 1 for a user certificate, 2 for a host certificate.
    public var role: UInt32
    public var keyID: String
    public var principals: [String]
    public var validAfter: UInt64
    public var validBefore: UInt64
    public var criticalOptions: [UInt8]
    /// The CA's public key blob, and its signature blob over `signed`.
    public var authorityKey: [UInt8]
    public var signature: [UInt8]
    public var signed: [UInt8]

    /// What every certificate type name ends with.
    public static let typeSuffix = "-cert-v01@openssh.com"

    /// The certified key's type (`ssh-ed25519` for `ssh-ed25519-cert-v01@openssh.com`).
    public var keyType: String { String(type.dropLast(Self.typeSuffix.count)) }

    /// The certificate in `blob`, or nil if it is not a well-formed one.
    public init?(blob: [UInt8]) {
        var reader = SSHWireReader(blob)
        guard let typeBytes = reader.string() else { return nil }
        let type = String(decoding: typeBytes, as: UTF8.self)
        guard type.hasSuffix(Self.typeSuffix), reader.string() != nil else { return nil }  // the nonce
        let plain = String(type.dropLast(Self.typeSuffix.count))
        let fields: Int
        switch plain {
        case "ssh-ed25519": fields = 1
        case "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521": fields = 2
        default: return nil
        }
        var key = SSHWireReader.encode(Array(plain.utf8))
        for _ in 0..<fields {
            guard let field = reader.string() else { return nil }
            key += SSHWireReader.encode(field)
        }
        guard let serial = reader.uint64(), let role = reader.uint32(), let keyID = reader.string(),
            let principalList = reader.string(), let validAfter = reader.uint64(), let validBefore = reader.uint64(),
            let critical = reader.string(), reader.string() != nil, reader.string() != nil,  // extensions, reserved
            let authority = reader.string()
        else { return nil }
        let signedCount = reader.offset
        guard let signature = reader.string(), reader.atEnd else { return nil }
        var principals: [String] = []
        var list = SSHWireReader(principalList)
        while !list.atEnd {
            guard let principal = list.string() else { return nil }
            principals.append(String(decoding: principal, as: UTF8.self))
        }
        self.type = type
        self.keyBlob = key
        self.serial = serial
        self.role = role
        self.keyID = String(decoding: keyID, as: UTF8.self)
        self.principals = principals
        self.validAfter = validAfter
        self.validBefore = validBefore
        self.criticalOptions = critical
        self.authorityKey = authority
        self.signature = signature
        self.signed = Array(blob[0..<signedCount])
    }

    /// Checks a CA signature: (CA key blob, signature blob, signed bytes) → valid.
    public typealias SignatureCheck = ([UInt8], [UInt8], [UInt8]) -> Bool

    /// Why the certificate does not vouch for `hostKey` as `hostName` at `now` (seconds since 1970), or nil
    /// when it does. `authorities` are the CA key blobs `@cert-authority` lines name for the host;
    /// `isRevoked` says whether a key blob is listed `@revoked`.
    public func problem(
        hostKey: [UInt8], hostName: String, now: UInt64, authorities: [[UInt8]], isRevoked: ([UInt8]) -> Bool,
        signatureIsValid: SignatureCheck
    ) -> String? {
        if role != 2 { return "it is a user certificate, not a host certificate" }
        if keyBlob != hostKey { return "it certifies another key than the one the server proved it holds" }
        if !authorities.contains(authorityKey) { return "its CA is not an @cert-authority for this host" }
        if isRevoked(authorityKey) { return "its CA key is marked @revoked" }
        if isRevoked(keyBlob) { return "the host key is marked @revoked" }
        if !signatureIsValid(authorityKey, signature, signed) { return "the CA's signature does not verify" }
        if now < validAfter { return "it is not valid yet (valid from \(Self.date(validAfter)))" }
        if now >= validBefore { return "it expired (valid until \(Self.date(validBefore)))" }
        if principals.isEmpty { return "it names no principal (OpenSSH requires one for a host)" }
        let name = Array(hostName.lowercased().utf8)
        // OpenSSH lets a host certificate's principals be patterns (wildcard_principals).
        if !principals.contains(where: { HostPatterns.glob(Array($0.lowercased().utf8)[...], name[...]) }) {
            return "it is for \(principals.joined(separator: ", ")), not \(hostName)"
        }
        if !criticalOptions.isEmpty { return "it has critical options, which a host certificate cannot honour" }
        return nil
    }

    /// `YYYY-MM-DD HH:MM:SS UTC`, or "forever".
    static func date(_ seconds: UInt64) -> String {
        if seconds == UInt64.max { return "forever" }
        let days = Int64(seconds / 86400)
        let rest = Int(seconds % 86400)
        // Howard Hinnant's civil_from_days.
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(year)-\(two(Int(month)))-\(two(Int(day))) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60)) UTC"
    }
}
