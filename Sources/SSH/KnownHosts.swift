// Host key verification against an OpenSSH known_hosts file. Lines are fed to libssh2 one at a time so
// that one line it cannot parse (a certificate authority, an unknown key type) does not hide the others.
// The host is looked up by its exact known_hosts name, `[host]:port` for ports other than 22, as OpenSSH
// does (libssh2's own port handling would also accept a port-less entry).

import CLibSSH2
import POSIXSupport

/// The outcome of checking a host key.
public enum HostKeyVerdict: Equatable, Sendable {
    case match
    /// No entry for this name and key type.
    case unknown
    /// An entry for this name and key type holds a different key (or the key is marked @revoked).
    case changed(revoked: Bool)
}

public enum KnownHosts {
    /// Checks `key` for `name` (`host` or `[host]:port`) against the known_hosts file at `path`.
    /// A missing file means every host is unknown.
    public static func verify(_ key: HostKey, name: String, path: String, session: Session) -> HostKeyVerdict {
        guard let contents = try? Files.read(path, limit: 64 * 1024 * 1024) else { return .unknown }
        guard let hosts = libssh2_knownhost_init(session.raw) else { return .unknown }
        defer { libssh2_knownhost_free(hosts) }

        let keyText = key.base64
        for line in contents.split(separator: UInt8(ascii: "\n")) {
            let text = String(decoding: line, as: UTF8.self).trimmingLeadingSpaces
            if text.isEmpty || text.hasPrefix("#") { continue }
            if text.hasPrefix("@revoked") {
                if text.split(separator: " ").contains(where: { $0 == keyText }) { return .changed(revoked: true) }
                continue
            }
            if text.hasPrefix("@") { continue }
            _ = text.withCString { libssh2_knownhost_readline(hosts, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
        }

        let type = sshcc_knownhost_plain_raw() | sshcc_knownhost_key_bits(key.type)
        let result = key.bytes.withUnsafeBytes { raw in
            libssh2_knownhost_checkp(
                hosts, name, -1, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count, type, nil)
        }
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .changed(revoked: false)
        default: return .unknown
        }
    }
}

extension String {
    var trimmingLeadingSpaces: String { String(drop(while: { $0 == " " || $0 == "\t" })) }
}
