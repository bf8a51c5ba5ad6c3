// One SSH connection: TCP socket, libssh2 session in non-blocking mode, handshake, host key. Every libssh2
// call goes through `retry`, which repeats the SAME call after EAGAIN, waiting on the socket in the
// directions libssh2 asks for (notes: the half-sent packet rule). A session and its channels belong to one
// thread at a time; the type is deliberately not Sendable.

import CLibSSH2
import ExtrasBase64
import POSIXSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libssh2_init is not thread-safe: a global initialiser runs it exactly once.
private let libssh2Ready: Bool = libssh2_init(0) == 0

/// An SSH connection to one server.
public final class Session {
    public let host: String
    public let port: Int
    /// The stream to sshd: a TCP connection, or our end of the hop's socket pair.
    let stream: FileDescriptor
    var socket: Int32 { stream.number }
    let raw: OpaquePointer
    /// The jump host or ProxyCommand process the connection runs through, if any.
    private let hop: HopProcess?
    /// Filled in by libssh2 when the server sends SSH_MSG_DISCONNECT.
    private let disconnectNote: UnsafeMutablePointer<sshcc_disconnect_note>

    /// How a session reaches its server.
    public enum Route: Sendable {
        case direct
        /// Through a process whose stdin/stdout is the stream to sshd: `argv` (argv[0] on PATH), named for
        /// messages by `name` ("jump host bastion", "ProxyCommand '…'").
        case hop(argv: [String], name: String)
    }

    /// Connects and performs the key exchange. Authentication and host key checks come after.
    /// `compressed` offers zlib compression of the whole connection (sshd's `Compression yes`, its default).
    /// `hostKeyAlgorithms` (libssh2's names, most wanted first) makes the server offer a key type known_hosts
    /// holds; those libssh2 does not support are left out.
    public init(
        host: String, port: Int, deadline: Deadline, compressed: Bool = false, hostKeyAlgorithms: [String] = [],
        route: Route = .direct
    ) throws(SSHError) {
        guard libssh2Ready else { throw SSHError(.handshake, "initialise libssh2") }
        self.host = host
        self.port = port
        switch route {
        case .direct:
            hop = nil
            stream = try TCPConnection.connect(host: host, port: port, deadline: deadline)
        case .hop(let argv, let name):
            let process = try HopProcess(argv: argv, name: name)
            hop = process
            guard let ours = process.socket.take() else { throw SSHError(.connect, "start \(name)") }
            stream = ours
        }
        disconnectNote = .allocate(capacity: 1)
        disconnectNote.initialize(to: sshcc_disconnect_note())
        guard let session = sshcc_session_init(disconnectNote) else {
            disconnectNote.deallocate()
            shutdown(stream.number, Int32(SHUT_RDWR))
            hop?.stop()
            throw SSHError(.handshake, "create an SSH session")
        }
        raw = session
        libssh2_session_set_blocking(raw, 0)
        if compressed { _ = libssh2_session_flag(raw, LIBSSH2_FLAG_COMPRESS, 1) }
        let wanted = hostKeyAlgorithms.filter(Self.supportedHostKeyAlgorithms(raw).contains)
        if !wanted.isEmpty {
            _ = libssh2_session_method_pref(raw, LIBSSH2_METHOD_HOSTKEY, wanted.joined(separator: ","))
        }
        do {
            try retry("SSH handshake with \(host) port \(port)", .handshake, deadline) {
                libssh2_session_handshake(raw, socket)
            }
        } catch {
            // What the hop said is the explanation (a jump host that refused, a command not found).
            guard let hop else { throw error }
            let said = hop.stderrText
            throw SSHError(
                .connect, "reach \(host) port \(port) through the \(hop.name)",
                detail: said.isEmpty ? error.description : said)
        }
    }

    deinit {
        // Best effort and bounded: the peer may already be gone.
        let deadline = Deadline(secondsFromNow: 1)
        _ = try? retry("disconnect", .connection, deadline) { sshcc_session_disconnect(raw, "sshcc done") }
        libssh2_session_free(raw)
        disconnectNote.deallocate()
        // The hop sees end of file before it is told to stop; the stream closes with this object.
        shutdown(socket, Int32(SHUT_RDWR))
        hop?.stop()
    }

    /// The host key algorithms this libssh2 can negotiate.
    static func supportedHostKeyAlgorithms(_ raw: OpaquePointer) -> [String] {
        var list: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(raw, LIBSSH2_METHOD_HOSTKEY, &list)
        guard count > 0, let list else { return [] }
        defer { libssh2_free(raw, list) }
        return (0..<Int(count)).compactMap { list[$0].map { String(cString: $0) } }
    }

    /// The compression the key exchange agreed on for data sent to the server ("none", "zlib@openssh.com").
    public var compressionMethod: String {
        libssh2_session_methods(raw, LIBSSH2_METHOD_COMP_CS).map { String(cString: $0) } ?? "none"
    }

    // MARK: Host key

    /// The key the server presented in the handshake.
    public var hostKey: HostKey {
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(raw, &length, &type) else {
            return HostKey(bytes: [], type: 0, sha256: [])
        }
        let bytes = key.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
        var digest: [UInt8] = []
        if let hash = libssh2_hostkey_hash(raw, LIBSSH2_HOSTKEY_HASH_SHA256) {
            digest = hash.withMemoryRebound(to: UInt8.self, capacity: 32) {
                Array(UnsafeBufferPointer(start: $0, count: 32))
            }
        }
        return HostKey(bytes: bytes, type: type, sha256: digest)
    }

    // MARK: Connection state

    /// The reason code and text of the server's SSH_MSG_DISCONNECT, once it sent one (its text is the
    /// server's: quote it with `shown`).
    public var serverDisconnect: (reason: Int32, message: String)? {
        guard disconnectNote.pointee.received != 0 else { return nil }
        let message = withUnsafeBytes(of: disconnectNote.pointee.message) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return (disconnectNote.pointee.reason, message)
    }

    /// Whether the stream to sshd has ended (end of file or an error such as a reset): what libssh2 reports
    /// as a refused key may be a connection that broke while it waited for the answer.
    public var streamEnded: Bool {
        if serverDisconnect != nil { return true }
        var byte: UInt8 = 0
        let received = recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    }

    // MARK: Waiting

    /// Runs a libssh2 call returning an int until it stops saying EAGAIN; throws on any other negative result.
    @discardableResult
    func retry(_ operation: @autoclosure () -> String, _ kind: SSHError.Kind, _ deadline: Deadline, _ call: () -> Int32)
        throws(SSHError) -> Int32
    {
        while true {
            let result = call()
            if result != LIBSSH2_ERROR_EAGAIN {
                if result < 0 { throw error(operation(), kind, code: result) }
                return result
            }
            try wait(deadline, operation())
        }
    }

    /// Waits until the socket is ready in the directions libssh2 is blocked on, or the deadline passes.
    public func wait(_ deadline: Deadline, _ operation: @autoclosure () -> String) throws(SSHError) {
        let directions = libssh2_session_block_directions(raw)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        // sshd sets TCP_NODELAY only for interactive sessions: for a subsystem, its second small packet
        // in a row waits for our ACK, which Linux delays by 40 ms. Quick ACKs end that stall; the mode is
        // not sticky, so it is re-armed before every wait.
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
        var poller = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let timeout = deadline.remainingMilliseconds
            if timeout == 0 { throw SSHError(.timeout, operation(), detail: "no answer from \(host) in time") }
            let ready = poll(&poller, 1, timeout)
            if ready > 0 || (ready < 0 && errno != EINTR) { return }
        }
    }

    /// An SSHError carrying libssh2's last message.
    func error(_ operation: String, _ kind: SSHError.Kind, code: Int32) -> SSHError {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        libssh2_session_last_error(raw, &message, &length, 0)
        let detail = message.map { String(cString: $0) } ?? ""
        let resolvedKind: SSHError.Kind =
            switch code {
            case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND: .connection
            case LIBSSH2_ERROR_TIMEOUT: .timeout
            default: kind
            }
        return SSHError(resolvedKind, operation, code: code, detail: detail)
    }
}

/// A server's host key and its SHA-256 digest.
public struct HostKey: Sendable, Equatable {
    public var bytes: [UInt8]
    /// LIBSSH2_HOSTKEY_TYPE_*.
    public var type: Int32
    public var sha256: [UInt8]

    /// OpenSSH's fingerprint form: `SHA256:` and unpadded base64.
    public var fingerprint: String { "SHA256:" + Base64.encodeToString(bytes: sha256, options: .omitPaddingCharacter) }

    /// The key as known_hosts writes it (base64 of the blob).
    public var base64: String { Base64.encodeToString(bytes: bytes) }

    /// The algorithm name known_hosts and ssh-keyscan use.
    public var typeName: String {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_RSA: "ssh-rsa"
        case LIBSSH2_HOSTKEY_TYPE_DSS: "ssh-dss"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: "ecdsa-sha2-nistp256"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: "ecdsa-sha2-nistp384"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: "ecdsa-sha2-nistp521"
        case LIBSSH2_HOSTKEY_TYPE_ED25519: "ssh-ed25519"
        default: "unknown"
        }
    }

    /// The short type ssh-keyscan's `-t` takes.
    public var keyscanType: String {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_RSA: "rsa"
        case LIBSSH2_HOSTKEY_TYPE_DSS: "dsa"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_HOSTKEY_TYPE_ECDSA_521: "ecdsa"
        default: "ed25519"
        }
    }
}
