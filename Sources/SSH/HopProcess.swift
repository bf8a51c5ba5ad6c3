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
    /// Our end, non-blocking, until the session takes it.
    var socket: FileDescriptor?
    /// Its stderr: an unlinked temporary file (or /dev/null when none could be made).
    private let errors: FileDescriptor
    let name: String

    /// Starts `argv` (argv[0] found on PATH), or `/bin/sh -c command` for a shell command.
    init(argv: [String], name: String) throws(SSHError) {
        self.name = name
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw SSHError(.connect, "start \(name)", detail: String(cString: strerror(errno)))
        }
        let ours = FileDescriptor(owning: ends[0])
        let theirs = FileDescriptor(owning: ends[1])
        guard let errors = Self.messageFile() else {
            throw SSHError(.connect, "start \(name)", detail: String(cString: strerror(errno)))
        }
        guard let executable = Environment.findExecutable(argv[0]) else {
            throw SSHError(.connect, "start \(name)", detail: "\(argv[0]) is not on PATH")
        }
        do {
            pid = try Subprocess.spawnConnected(executable: executable, arguments: argv, stdio: theirs, stderr: errors)
        } catch {
            throw SSHError(.connect, "start \(name)", detail: "\(error)")
        }
        self.errors = consume errors
        ours.setBlocking(false)
        socket = consume ours
    }

    /// What the hop wrote to stderr (its last lines, at most 2 KiB), for a message.
    var stderrText: String {
        let fd = errors.number
        var buffer = [UInt8](repeating: 0, count: 2048)
        let size = lseek(fd, 0, SEEK_END)
        let start = max(0, size - off_t(buffer.count))
        let count = pread(fd, &buffer, buffer.count, start)
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count], as: UTF8.self)
            .split(separator: "\n").suffix(3).joined(separator: "; ")
    }

    /// Ends the hop (the session has closed our end, so it has seen EOF): SIGTERM, reaped within a second or
    /// killed.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// An unlinked temporary file for the hop's messages, or /dev/null.
    private static func messageFile() -> FileDescriptor? {
        if let file = tmpfile() {
            defer { fclose(file) }
            if let copy = try? FileDescriptor("dup", { fcntl(fileno(file), F_DUPFD_CLOEXEC, 0) }) { return copy }
        }
        return try? FileDescriptor("open", { open("/dev/null", O_WRONLY | O_CLOEXEC) })
    }
}
