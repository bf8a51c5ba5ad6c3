// Host key verification against every known_hosts file OpenSSH would read for the host (the user's, then
// the global ones, or those the configuration names), read as OpenSSH reads them (KnownHostsFormat):
// revocations first, patterns, negation, hashed names, `[host]:port`. This file adds the I/O: reading the
// files, the HMAC-SHA1 of hashed names, the key the server offered.

import Crypto
import ExtrasBase64
import KnownHostsFormat
import POSIXSupport

/// The known_hosts files for one host, read.
public struct KnownHostsFiles: Sendable {
    public var sources: [KnownHostsSource]
    /// Files that exist but could not be read (path and why): a revocation in them would go unseen.
    public var unreadable: [(path: String, reason: String)]

    /// Reads each of `paths` that exists (a missing file is simply empty, as for OpenSSH).
    public static func read(_ paths: [String]) -> KnownHostsFiles {
        var files = KnownHostsFiles(sources: [], unreadable: [])
        for path in paths where Files.exists(path) {
            do {
                let bytes = try Files.read(path, limit: 64 * 1024 * 1024)
                files.sources.append(KnownHostsSource(path: path, lines: KnownHostsLine.parse(bytes)))
            } catch {
                files.unreadable.append((path, "\(error)"))
            }
        }
        return files
    }

    /// The host key algorithms to ask for when connecting to `name`: `first` (certified types), then the
    /// types recorded for it, then the rest.
    public func algorithms(for name: String, first: [String] = []) -> [String] {
        let order = KnownHostsCheck.algorithms(
            for: name, in: sources,
            supported: ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"],
            hmac: KnownHosts.hmacSHA1)
        return order.filter(first.contains) + order.filter { !first.contains($0) }
    }

    /// The CA key blobs `@cert-authority` lines name for `name`, with their places.
    public func authorities(for name: String) -> [(key: [UInt8], place: KnownHostsPlace)] {
        KnownHostsCheck.authorities(for: name, in: sources, hmac: KnownHosts.hmacSHA1).compactMap { found in
            Base64Text.decode(found.keyBase64).map { ($0, found.place) }
        }
    }

    /// Whether a plain (not `@cert-authority`) entry names `name`.
    public func recordsPlainKeys(for name: String) -> Bool {
        KnownHostsCheck.recordsPlainKeys(for: name, in: sources, hmac: KnownHosts.hmacSHA1)
    }

    /// Whether a key blob is listed `@revoked` (or is in a revocation sshcc cannot read) in any file.
    public func isRevoked(_ blob: [UInt8]) -> Bool {
        let base64 = Base64.encodeToString(bytes: blob)
        return sources.contains { source in
            if case .notRevoked = KnownHostsRevocation.check(base64, in: source.lines) { return false }
            return true
        }
    }

    /// What the files say about `key` offered under `name`.
    public func check(_ key: HostKey, name: String) -> KnownHostsFinding {
        KnownHostsCheck.check(
            keyType: key.typeName, keyBase64: key.base64, name: name, in: sources, hmac: KnownHosts.hmacSHA1)
    }
}

public enum KnownHosts {
    /// HMAC-SHA1, as `ssh-keygen -H` hashes names.
    public static let hmacSHA1: HMACSHA1 = { key, message in
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
