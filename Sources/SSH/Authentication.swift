// User authentication by public key: from a key file, or through ssh-agent. Reports which keys were
// offered and how each fared, so the wrapper can say what to fix (and spot RSA keys, which this libssh2
// can only sign with SHA-1 `ssh-rsa`, refused by OpenSSH 8.8 and later).

import CLibSSH2
import KnownHostsFormat
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

    public init(source: String, algorithm: String?, outcome: Outcome) {
        self.source = source
        self.algorithm = algorithm
        self.outcome = outcome
    }
}

extension Session {
    /// Offers the private key in `path` for `user`: as the public key (or certificate) in `certificate`, else
    /// with `path.pub` if present.
    public func authenticate(user: String, privateKey path: String, certificate: String? = nil, deadline: Deadline)
        throws(SSHError) -> OfferedKey
    {
        let info = KeyFileInfo.read(privateKey: path)
        var offered = OfferedKey(
            source: certificate.map { "\($0) (certificate)" } ?? path, algorithm: info.algorithm, outcome: .rejected)
        if let problem = info.problem {
            offered.outcome = .unusable(problem)
            return offered
        }
        let publicKey = certificate ?? (Files.exists(path + ".pub") ? path + ".pub" : nil)
        do {
            try retry("authenticate as \(user) with \(path)", .authentication, deadline) {
                sshcc_userauth_publickey_fromfile(raw, user, publicKey, path)
            }
            offered.outcome = .accepted
        } catch  where error.code == LIBSSH2_ERROR_FILE {
            offered.outcome = .unusable("libssh2 cannot read it: \(error.detail)")
        } catch  where Self.isRefusal(error) {
            try refusalOrLostConnection(error)
            offered.outcome = .rejected
        }
        return offered
    }

    /// Offers the agent's key number `index` for `user`.
    public func authenticate(user: String, agent: Agent, index: Int, deadline: Deadline) throws(SSHError)
        -> OfferedKey
    {
        let identity = agent.identities[index]
        var key = OfferedKey(
            source: "agent: " + agent.comments[index], algorithm: agent.algorithms[index], outcome: .rejected)
        do {
            try retry("authenticate as \(user) with the agent", .authentication, deadline) {
                libssh2_agent_userauth(agent.raw, user, identity)
            }
            key.outcome = .accepted
        } catch  where Self.isRefusal(error) {
            try refusalOrLostConnection(error)
            key.outcome = .rejected
        }
        return key
    }

    /// The codes libssh2 gives a refused key — and also a connection that broke or was closed while it
    /// waited for the server's answer ("Waiting for USERAUTH response").
    static func isRefusal(_ error: SSHError) -> Bool {
        error.code == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED || error.code == LIBSSH2_ERROR_AUTHENTICATION_FAILED
    }

    /// Returns when the server really refused the key; throws a connection error when the stream ended
    /// instead (a broken connection must be retried, not taken for a refusal).
    func refusalOrLostConnection(_ error: SSHError) throws(SSHError) {
        guard streamEnded else { return }
        let how = serverDisconnect == nil ? "the connection broke" : "the server closed the connection"
        throw SSHError(.connection, error.operation, code: error.code, detail: how)
    }
}

/// A connection to ssh-agent for one session, and the keys it holds (in the agent's order).
public final class Agent {
    let raw: OpaquePointer
    /// Keeps the session alive as long as the agent handle that belongs to it.
    private let session: Session
    let identities: [UnsafeMutablePointer<libssh2_agent_publickey>]
    /// The public key blobs, comments and algorithms, index for index.
    public let blobs: [[UInt8]]
    public let comments: [String]
    public let algorithms: [String?]

    /// The agent at `socketPath`, or nil when there is none (or it cannot be listed).
    public init?(session: Session, socketPath: String) {
        guard let agent = libssh2_agent_init(session.raw) else { return nil }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else {
            libssh2_agent_free(agent)
            return nil
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
            return nil
        }
        raw = agent
        self.session = session
        var found: [UnsafeMutablePointer<libssh2_agent_publickey>] = []
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(agent, &identity, previous) == 0, let identity else { break }
            found.append(identity)
            previous = identity
        }
        identities = found
        blobs = found.map { Array(UnsafeBufferPointer(start: $0.pointee.blob, count: Int($0.pointee.blob_len))) }
        comments = found.map { $0.pointee.comment.map { String(cString: $0) } ?? "key" }
        algorithms = blobs.map { blob in
            var reader = SSHWireReader(blob)
            return reader.string().map { String(decoding: $0, as: UTF8.self) }
        }
    }

    deinit {
        libssh2_agent_disconnect(raw)
        libssh2_agent_free(raw)
    }
}
