// A connection through a jump host or a ProxyCommand: a child process (`ssh -W host:port jump`, or the
// command) whose stdin and stdout are one end of a socketpair; the session speaks SSH over the other end,
// exactly as over TCP. One such process per connection, never per job. Its stderr goes to an unlinked
// temporary file, so that a failure can be explained with what the hop said (OpenSSH's own messages).

import POSIXSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A running hop process and our end of its byte stream.
final class HopProcess {
    let pid: pid_t
    /// Our end: non-blocking, for the session.
    let socket: Int32
    private let errors: UnsafeMutablePointer<FILE>?
    let name: String

    /// Starts `argv` (argv[0] found on PATH), or `/bin/sh -c command` for a shell command.
    init(argv: [String], name: String) throws(SSHError) {
        self.name = name
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw SSHError(.connect, "start \(name)", detail: String(cString: strerror(errno)))
        }
        let file = tmpfile()
        errors = file
        let errorFD = file.map { fileno($0) } ?? open("/dev/null", O_WRONLY)
        defer { if file == nil { close(errorFD) } }
        guard let executable = Environment.findExecutable(argv[0]) else {
            close(ends[0])
            close(ends[1])
            throw SSHError(.connect, "start \(name)", detail: "\(argv[0]) is not on PATH")
        }
        do {
            pid = try Subprocess.spawnConnected(
                executable: executable, arguments: argv, stdio: ends[1], stderr: errorFD)
        } catch {
            close(ends[0])
            close(ends[1])
            throw SSHError(.connect, "start \(name)", detail: "\(error)")
        }
        close(ends[1])
        socket = ends[0]
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
    }

    /// What the hop wrote to stderr (its last lines, at most 2 KiB), for a message.
    var stderrText: String {
        guard let errors else { return "" }
        let fd = fileno(errors)
        var buffer = [UInt8](repeating: 0, count: 2048)
        let size = lseek(fd, 0, SEEK_END)
        let start = max(0, size - off_t(buffer.count))
        let count = pread(fd, &buffer, buffer.count, start)
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count], as: UTF8.self)
            .split(separator: "\n").suffix(3).joined(separator: "; ")
    }

    /// Ends the hop: our end closed (it sees EOF), SIGTERM, reaped within a second or killed.
    func stop() {
        close(socket)
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) != 0 { return finish() }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        finish()
    }

    private func finish() { if let errors { fclose(errors) } }
}
