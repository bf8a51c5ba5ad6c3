// Opening the TCP connection under an SSH session: name resolution, a connect bounded by a deadline,
// TCP_NODELAY (libssh2 does not set it, and small round trips would stall 40 ms on Nagle).

import POSIXSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum TCPConnection {
    /// A connected non-blocking socket to `host`:`port`, trying each resolved address in turn.
    static func connect(host: String, port: Int, deadline: Deadline) throws(SSHError) -> FileDescriptor {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let list else {
            throw SSHError(.connect, "resolve \(host)", detail: String(cString: gai_strerror(resolved)))
        }
        defer { freeaddrinfo(list) }

        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            entry = address.pointee.ai_next
            guard
                let socket = try? FileDescriptor(
                    "socket",
                    {
                        Glibc.socket(
                            address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
                    })
            else { continue }
            let fd = socket.number
            socket.setBlocking(false)
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                while poll(&poller, 1, deadline.remainingMilliseconds) < 0 && errno == EINTR {}
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if poller.revents != 0 && error == 0 {
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return socket
                }
                lastError = poller.revents == 0 ? "timed out" : String(cString: strerror(error))
            } else {
                lastError = String(cString: strerror(errno))
            }
        }
        throw SSHError(.connect, "connect to \(host) port \(port)", detail: lastError)
    }
}
