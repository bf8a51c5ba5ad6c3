// Errors of the SSH layer: what failed, libssh2's code and text when it has them. The wrapper turns
// these into user messages that name the host and the fix; this layer only reports facts.

/// A failed SSH operation.
public struct SSHError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Name resolution or TCP connection.
        case connect
        /// An operation did not finish before its deadline.
        case timeout
        /// The key exchange failed (not an SSH server, no common algorithm).
        case handshake
        /// The server refused the key or the user.
        case authentication
        /// A key file could not be read or decoded.
        case keyFile
        /// The server refused to open a channel (MaxSessions, or the connection is going away).
        case channelOpen
        /// The server refused a channel request: no such subsystem, or exec not allowed.
        case requestDenied
        /// The connection or channel broke while in use.
        case connection
    }

    public var kind: Kind
    public var operation: String
    /// libssh2's error code (LIBSSH2_ERROR_*), when libssh2 reported the failure.
    public var code: Int32?
    public var detail: String

    public init(_ kind: Kind, _ operation: String, code: Int32? = nil, detail: String = "") {
        self.kind = kind
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    public var description: String {
        var text = operation
        if !detail.isEmpty { text += ": \(detail)" }
        if let code { text += " (libssh2 error \(code))" }
        return text
    }
}
