// Which keys to offer a server and in what order, as OpenSSH's pubkey_prepare (sshconnect2.c) decides:
// the agent's keys in the agent's order — a configured identity the agent holds is used through the agent —
// then the configured files the agent does not hold. With IdentitiesOnly, an agent key that no configured
// file names is never offered: an agent with many keys would otherwise use up the server's MaxAuthTries
// before the right one. An identity's certificate (its `-cert.pub`, or a CertificateFile for its key) counts
// as that identity: the agent's copy of it is offered, and a file is offered with it first. Pure: blobs in,
// an order out.

/// A configured identity file and its public key blob, if it could be read (from `KEY.pub` or the public
/// half of the private key file).
public struct ConfiguredIdentity: Equatable, Sendable {
    public var path: String
    public var publicBlob: [UInt8]?
    /// Its certificates' blobs.
    public var certificateBlobs: [[UInt8]]
    public init(path: String, publicBlob: [UInt8]?, certificateBlobs: [[UInt8]] = []) {
        self.path = path
        self.publicBlob = publicBlob
        self.certificateBlobs = certificateBlobs
    }

    func names(_ blob: [UInt8]) -> Bool { publicBlob == blob || certificateBlobs.contains(blob) }
}

public enum IdentityChoice: Equatable, Sendable {
    /// The agent's key at this index (of the agent's list); `file` when it is a configured identity.
    case agent(index: Int, file: String?)
    /// The private key file, signed by libssh2.
    case file(String)
}

public enum IdentityOrder {
    public static func plan(configured: [ConfiguredIdentity], agentKeys: [[UInt8]], identitiesOnly: Bool)
        -> [IdentityChoice]
    {
        var order: [IdentityChoice] = []
        for (index, blob) in agentKeys.enumerated() {
            if let identity = configured.first(where: { $0.names(blob) }) {
                order.append(.agent(index: index, file: identity.path))
            } else if !identitiesOnly {
                order.append(.agent(index: index, file: nil))
            }
        }
        // A file whose key the agent holds is used through the agent; the others are signed by libssh2.
        let remaining = configured.filter { identity in !agentKeys.contains { $0 == identity.publicBlob } }
        return order + remaining.map { .file($0.path) }
    }
}
