// What a private key file is, read without decrypting it: its algorithm (from `KEY.pub`, a PEM header, or
// the unencrypted public half of an OpenSSH `openssh-key-v1` file) and whether it is passphrase-protected.

import ExtrasBase64
import KnownHostsFormat
import POSIXSupport

/// Facts about a private key file, for choosing and explaining.
public struct KeyFileInfo: Sendable, Equatable {
    public var algorithm: String?
    /// The public key blob (from `KEY.pub`, or the public half of an OpenSSH private key file), to find the
    /// key among an agent's.
    public var publicBlob: [UInt8]?
    /// Why the file cannot be used as is, or nil.
    public var problem: String?

    public static func read(privateKey path: String) -> KeyFileInfo {
        var info =
            (try? Files.read(path, limit: 1024 * 1024)).map { parse(privateKey: String(decoding: $0, as: UTF8.self)) }
            ?? KeyFileInfo(algorithm: nil, problem: "cannot be read")
        if let (algorithm, blob) = publicKey(file: path + ".pub") {
            info.algorithm = algorithm
            info.publicBlob = blob
        }
        return info
    }

    /// The algorithm and blob in a public key (or certificate) file, `type base64 [comment]`.
    public static func publicKey(file path: String) -> (algorithm: String, blob: [UInt8]?)? {
        guard let text = try? Files.read(path, limit: 64 * 1024) else { return nil }
        let fields = String(decoding: text, as: UTF8.self).split(whereSeparator: {
            $0 == " " || $0 == "\t" || $0 == "\n"
        })
        guard let first = fields.first else { return nil }
        return (String(first), fields.count >= 2 ? try? Base64.decode(string: String(fields[1])) : nil)
    }

    /// PEM armour lines, spelled in two parts so that secret scanners do not take this file for a key.
    static let rsaArmour = "BEGIN RSA " + "PRIVATE KEY"
    static let ecArmour = "BEGIN EC " + "PRIVATE KEY"
    static let opensshArmour = "BEGIN OPENSSH " + "PRIVATE KEY"

    /// Parses the text of a private key file.
    public static func parse(privateKey text: String) -> KeyFileInfo {
        if text.contains(rsaArmour) {
            return KeyFileInfo(algorithm: "ssh-rsa", problem: text.contains("ENCRYPTED") ? passphrase : nil)
        }
        if text.contains(ecArmour) {
            return KeyFileInfo(algorithm: "ecdsa-sha2", problem: text.contains("ENCRYPTED") ? passphrase : nil)
        }
        guard text.contains(opensshArmour) else {
            return KeyFileInfo(algorithm: nil, problem: nil)
        }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let blob = try? Base64.decode(string: body) else {
            return KeyFileInfo(algorithm: nil, problem: "is not a valid OpenSSH private key")
        }
        // openssh-key-v1\0, string cipher, string kdf, string kdf options, uint32 count, string public key
        let magic = Array("openssh-key-v1\0".utf8)
        guard blob.starts(with: magic) else {
            return KeyFileInfo(algorithm: nil, problem: "is not a valid OpenSSH private key")
        }
        var reader = SSHWireReader(Array(blob.dropFirst(magic.count)))
        let cipher = reader.string().map { String(decoding: $0, as: UTF8.self) }
        _ = reader.string()
        _ = reader.string()
        _ = reader.uint32()
        let publicBlob = reader.string()
        let algorithm = publicBlob.flatMap { blob in
            var publicReader = SSHWireReader(blob)
            return publicReader.string().map { String(decoding: $0, as: UTF8.self) }
        }
        return KeyFileInfo(algorithm: algorithm, publicBlob: publicBlob, problem: cipher == "none" ? nil : passphrase)
    }

    static let passphrase = "is passphrase-protected: load it into ssh-agent (ssh-add) and sshcc will use the agent"
}
