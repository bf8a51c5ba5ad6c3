// Who a sshccd process serves, from what sshd put in its environment: the account, the client's address and
// port (SSH_CONNECTION), and — when sshd has `ExposeAuthInfo yes` — the key or certificate that logged in
// (SSH_USER_AUTH names a file sshd writes for the session: one `METHOD DETAILS` line per method used, a
// public key as `publickey TYPE BASE64`). Every log line names it; `sshccd --status` shows it per slot.

import Crypto
import ExtrasBase64
import KnownHostsFormat

public struct ClientIdentity: Equatable, Sendable {
    public var account: String
    /// "10.0.0.5 port 51234".
    public var address: String?
    /// "ED25519 SHA256:…", or for a certificate "ED25519-CERT SHA256:… ID alice@laptop (serial 7) CA ED25519 SHA256:…"
    /// (as sshd logs it).
    public var key: String?

    public var text: String {
        account + (address.map { " from \($0)" } ?? "") + (key.map { ", key \($0)" } ?? "")
    }

    /// `SSH_CONNECTION` is `CLIENT-ADDRESS CLIENT-PORT SERVER-ADDRESS SERVER-PORT`.
    public static func address(fromSSHConnection value: String) -> String? {
        let fields = value.split(separator: " ")
        guard fields.count == 4, UInt16(fields[1]) != nil else { return nil }
        return "\(fields[0]) port \(fields[1])"
    }

    /// The key of the last `publickey` line of an SSH_USER_AUTH file, as sshd names keys in its log.
    public static func key(fromAuthInfo text: String) -> String? {
        let line = text.split(separator: "\n").last { $0.hasPrefix("publickey ") }
        guard let fields = line?.split(separator: " "), fields.count >= 3,
            let blob = Base64Text.decode(String(fields[2]))
        else { return nil }
        let type = String(fields[1])
        guard type.hasSuffix(OpenSSHCertificate.typeSuffix) else {
            return "\(displayName(type)) \(fingerprint(blob))"
        }
        guard let certificate = OpenSSHCertificate(blob: blob) else { return nil }
        var reader = SSHWireReader(certificate.authorityKey)
        let authority = reader.string().map { displayName(String(decoding: $0, as: UTF8.self)) } ?? "?"
        return "\(displayName(certificate.keyType))-CERT \(fingerprint(certificate.keyBlob)) "
            + "ID \(certificate.keyID) (serial \(certificate.serial)) CA \(authority) \(fingerprint(certificate.authorityKey))"
    }

    /// OpenSSH's fingerprint: `SHA256:` and the digest's base64 without padding.
    static func fingerprint(_ blob: [UInt8]) -> String {
        "SHA256:" + Base64.encodeToString(bytes: Array(SHA256.hash(data: blob)), options: .omitPaddingCharacter)
    }

    /// `ssh-ed25519` → `ED25519`, as ssh-keygen -l and sshd's log name key types.
    static func displayName(_ type: String) -> String {
        switch type {
        case "ssh-ed25519": "ED25519"
        case "ssh-rsa": "RSA"
        case "sk-ssh-ed25519@openssh.com": "ED25519-SK"
        case _ where type.hasPrefix("ecdsa-sha2-"): "ECDSA"
        case _ where type.hasPrefix("sk-ecdsa-sha2-"): "ECDSA-SK"
        default: type
        }
    }

    /// From an environment as sshd set it; `readFile` reads the SSH_USER_AUTH file (nil if it cannot).
    public static func from(
        environment: (String) -> String?, account: String, readFile: (String) -> [UInt8]?
    ) -> ClientIdentity {
        let info = environment("SSH_USER_AUTH").flatMap(readFile).map { String(decoding: $0, as: UTF8.self) }
        return ClientIdentity(
            account: account, address: environment("SSH_CONNECTION").flatMap(address(fromSSHConnection:)),
            key: info.flatMap(key(fromAuthInfo:)))
    }
}
