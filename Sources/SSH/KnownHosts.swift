// Host key verification against an OpenSSH known_hosts file. The file is read as OpenSSH reads it
// (KnownHostsFormat): revocations first — a key listed `@revoked`, or found in a marker line sshcc cannot
// read, is refused, and a damaged `@revoked` line refuses every key — then the plain entries are fed to
// libssh2 one at a time, normalised, so that a line it cannot parse does not hide the others. The host is
// looked up by its exact known_hosts name, `[host]:port` for ports other than 22, as OpenSSH does
// (libssh2's own port handling would also accept a port-less entry).

import CLibSSH2
import KnownHostsFormat
import POSIXSupport

/// The outcome of checking a host key.
public enum HostKeyVerdict: Equatable, Sendable {
    case match
    /// No entry for this name and key type.
    case unknown
    /// An entry for this name and key type holds a different key (or the key is marked @revoked).
    case changed(revoked: Bool)
    /// A line that looks like a revocation cannot be read (its number): no key is trusted until it is fixed.
    case unreadableRevocation(line: Int)
}

public enum KnownHosts {
    /// Checks `key` for `name` (`host` or `[host]:port`) against the known_hosts file at `path`.
    /// A missing file means every host is unknown.
    public static func verify(_ key: HostKey, name: String, path: String, session: Session) -> HostKeyVerdict {
        guard let contents = try? Files.read(path, limit: 64 * 1024 * 1024) else { return .unknown }
        let lines = KnownHostsLine.parse(contents)
        switch KnownHostsRevocation.check(key.base64, in: lines) {
        case .revoked: return .changed(revoked: true)
        case .unreadable(let line): return .unreadableRevocation(line: line)
        case .notRevoked: break
        }
        guard let hosts = libssh2_knownhost_init(session.raw) else { return .unknown }
        defer { libssh2_knownhost_free(hosts) }
        for case .entry(let entry) in lines where entry.marker == .plain {
            let text = "\(entry.hosts) \(entry.keyType) \(entry.keyBase64)"
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
