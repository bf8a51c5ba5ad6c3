// Unix stream sockets for the wrapper ↔ mux daemon link: listen on a path, accept, connect. The socket
// lives in the owner-only SSHCC_DIR; the daemon also checks each peer's uid (SO_PEERCRED).

import CPOSIX

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum UnixSocket {
    /// sun_path holds 108 bytes including the final NUL.
    public static let maximumPathLength = 107

    /// A listening socket at `path` (an old socket file there is replaced), mode 0600.
    public static func listen(at path: String, backlog: Int32 = 1024) throws(SystemError) -> FileDescriptor {
        let socket = try streamSocket()
        let fd = socket.number
        unlink(path)
        let previous = umask(0o177)
        defer { umask(previous) }
        try withAddress(path) { address, length throws(SystemError) in
            _ = try SystemError.check("bind", path: path) { bind(fd, address, length) }
        }
        _ = try SystemError.check("listen", path: path) { Glibc.listen(fd, backlog) }
        return socket
    }

    /// Connects to the socket at `path`.
    public static func connect(to path: String) throws(SystemError) -> FileDescriptor {
        let socket = try streamSocket()
        let fd = socket.number
        try withAddress(path) { address, length throws(SystemError) in
            _ = try SystemError.check("connect", path: path) { Glibc.connect(fd, address, length) }
        }
        return socket
    }

    private static func streamSocket() throws(SystemError) -> FileDescriptor {
        try FileDescriptor("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// The next connection; retries EINTR.
    public static func accept(_ listener: borrowing FileDescriptor) throws(SystemError) -> FileDescriptor {
        try FileDescriptor("accept") { sshcc_accept_cloexec(listener.number) }
    }

    /// Who is at the other end: the process that connected, or the one that was listening.
    public struct Peer: Equatable, Sendable {
        public var pid: pid_t
        public var uid: uid_t

        /// The peer's executable (/proc/PID/exe), nil when it cannot be read (another user's, or hidepid).
        public var executable: String? {
            var buffer = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1)
            guard count > 0 else { return nil }
            return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The credentials of the other end (SO_PEERCRED), nil when the kernel gives none.
    public static func peer(_ fd: borrowing FileDescriptor) -> Peer? {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        guard sshcc_peer_credentials(fd.number, &pid, &uid) == 0 else { return nil }
        return Peer(pid: pid, uid: uid)
    }

    /// The uid of the process at the other end.
    public static func peerUID(_ fd: borrowing FileDescriptor) -> uid_t? { peer(fd)?.uid }

    private static func withAddress(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> Void
    ) throws(SystemError) {
        let bytes = Array(path.utf8)
        guard bytes.count <= maximumPathLength else {
            throw SystemError(
                "use socket path (longer than \(maximumPathLength) bytes)", path: path, errno: .fileNameTooLong)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        var failure: SystemError?
        withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                do throws(SystemError) {
                    try body(raw, socklen_t(MemoryLayout<sockaddr_un>.size))
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
    }
}

/// An advisory whole-file lock (flock): serialises the wrappers that might start a daemon at once.
/// Closing the file (when the lock ends) lets go.
public final class FileLock {
    let file: FileDescriptor

    /// Opens (creating, 0600) and locks `path` exclusively, waiting for the holder to let go.
    public init(path: String) throws(SystemError) {
        let file = try FileDescriptor("open", path: path) {
            open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }
        while flock(file.number, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SystemError("lock", path: path) }
        }
        self.file = consume file
    }

    /// A lock already taken on `file` (`attempt`).
    init(holding file: consuming FileDescriptor) {
        self.file = file
    }
}
