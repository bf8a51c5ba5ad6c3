// User authentication by public key: from a key file, or through ssh-agent. Reports which keys were
// offered and how each fared, so the wrapper can say what to fix (and spot RSA keys, which this libssh2
// can only sign with SHA-1 `ssh-rsa`, refused by OpenSSH 8.8 and later).

import CLibSSH2
import POSIXSupport

/// A key offered to the server and what became of it.
public struct OfferedKey: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case accepted
        case rejected
        /// The key file could not be used (unreadable, passphrase-protected, unknown format).
        case unusable(String)
    }

    /// A file path, or `agent: COMMENT`.
    public var source: String
    /// The key algorithm (`ssh-ed25519`, `ssh-rsa`…) when known.
    public var algorithm: String?
    public var outcome: Outcome
}

extension Session {
    /// Offers the private key in `path` (with `path.pub` if present) for `user`.
    public func authenticate(user: String, privateKey path: String, deadline: Deadline) throws(SSHError) -> OfferedKey {
        let info = KeyFileInfo.read(privateKey: path)
        var offered = OfferedKey(source: path, algorithm: info.algorithm, outcome: .rejected)
        if let problem = info.problem {
            offered.outcome = .unusable(problem)
            return offered
        }
        let publicKey = Files.exists(path + ".pub") ? path + ".pub" : nil
        do {
            try retry("authenticate as \(user) with \(path)", .authentication, deadline) {
                sshcc_userauth_publickey_fromfile(raw, user, publicKey, path)
            }
            offered.outcome = .accepted
        } catch  where error.code == LIBSSH2_ERROR_FILE {
            offered.outcome = .unusable("libssh2 cannot read it: \(error.detail)")
        } catch
            where error.code == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED || error.code == LIBSSH2_ERROR_AUTHENTICATION_FAILED
        {
            offered.outcome = .rejected
        }
        return offered
    }

    /// Offers each identity the agent at `socketPath` holds, until one is accepted. Returns them all;
    /// empty when there is no agent or it holds no key.
    public func authenticateWithAgent(user: String, socketPath: String, deadline: Deadline) throws(SSHError)
        -> [OfferedKey]
    {
        guard let agent = libssh2_agent_init(raw) else { return [] }
        defer { libssh2_agent_free(agent) }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else { return [] }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { return [] }

        var offered: [OfferedKey] = []
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(agent, &identity, previous) == 0, let identity else { break }
            previous = identity
            let blob = Array(UnsafeBufferPointer(start: identity.pointee.blob, count: Int(identity.pointee.blob_len)))
            var blobReader = SSHWireReader(blob)
            var key = OfferedKey(
                source: "agent: " + (identity.pointee.comment.map { String(cString: $0) } ?? "key"),
                algorithm: blobReader.string().map { String(decoding: $0, as: UTF8.self) }, outcome: .rejected)
            do {
                try retry("authenticate as \(user) with the agent", .authentication, deadline) {
                    libssh2_agent_userauth(agent, user, identity)
                }
                key.outcome = .accepted
            } catch
                where error.code == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
                || error.code == LIBSSH2_ERROR_AUTHENTICATION_FAILED
            {
                key.outcome = .rejected
            }
            offered.append(key)
            if key.outcome == .accepted { break }
        }
        return offered
    }
}
