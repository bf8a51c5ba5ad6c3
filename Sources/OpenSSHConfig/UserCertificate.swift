// A user certificate (OpenSSHCertificate), enough to pair a `-cert.pub` or CertificateFile with
// the identity it certifies and to tell whether libssh2 can sign with it. Pure: blob in, facts out.
//
// libssh2 1.10 signs only ECDSA certificates correctly: for every
// other type it names the signature after the certificate type (userauth.c's plain_method_len knows only
// the ECDSA names), and sshd rejects such a signature.

import KnownHostsFormat

public struct UserCertificate: Equatable, Sendable {
    /// `ssh-ed25519-cert-v01@openssh.com`…
    public var type: String
    /// The certificate blob as sent to the server.
    public var blob: [UInt8]
    /// The blob of the key it certifies (`ssh-ed25519`…), to find that key among the configured ones.
    public var keyBlob: [UInt8]

    /// The certificate in `blob`, or nil if it is not one sshcc understands.
    public init?(blob: [UInt8]) {
        guard let certificate = OpenSSHCertificate(blob: blob) else { return nil }
        type = certificate.type
        self.blob = blob
        keyBlob = certificate.keyBlob
    }

    /// Whether libssh2 1.10 can make a signature sshd accepts with it.
    public var signableByLibssh2: Bool { type.hasPrefix("ecdsa-sha2-") }

    /// Why it cannot be used, for the failure message.
    public var unusableReason: String {
        "is a \(type) certificate, which this libssh2 (1.10) cannot sign with (it does so only for ECDSA keys); "
            + "use an ECDSA key's certificate (ssh-keygen -t ecdsa), or authorize the key itself"
    }
}
