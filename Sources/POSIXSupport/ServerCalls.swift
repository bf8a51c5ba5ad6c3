// The system calls sshccd's job handling needs, named for what they do: a FIFO the compiler writes its
// assembly into, an abstract socket name held as a lock, whether a process still exists, a directory's
// owner, and what a signal that ended a process stands for.

import CPOSIX

#if canImport(Glibc)
    import Glibc
#endif

/// A named pipe a child opens by path.
public enum Fifo {
    /// Makes a FIFO at `path` (0600) and opens its read end without waiting for a writer.
    public static func makeAndOpenReader(at path: String) throws(SystemError) -> FileDescriptor {
        try SystemError.check("mkfifo", path: path) { mkfifo(path, 0o600) }
        return try FileDescriptor("open", path: path) { open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
    }

    /// Opens and at once closes the write end: a reader still waiting for its first writer then sees the end.
    /// Nothing happens when nobody reads.
    public static func knock(_ path: String) {
        let writer = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if writer >= 0 { close(writer) }
    }

    /// Waits until a writer has opened the FIFO read through `fd` (Linux reports no hang-up on a FIFO that
    /// never had a writer, and a read would return end of file at once), then makes reads on `fd` block.
    public static func awaitWriter(_ fd: borrowing FileDescriptor) throws(SystemError) {
        var entry = pollfd(fd: fd.number, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, -1) < 0 {
            if errno != EINTR { throw SystemError("poll on a FIFO") }
        }
        fd.setBlocking(true)
    }
}

extension UnixSocket {
    /// Binds and listens on the abstract name `name` (Linux, no file): the descriptor, or nil when someone
    /// holds the name. Holding the descriptor holds the name; the kernel frees it when it closes.
    public static func holdAbstractName(_ name: [UInt8]) -> FileDescriptor? {
        let fd = sshcc_bind_abstract(name, Int32(name.count))
        return fd >= 0 ? FileDescriptor(owning: fd) : nil
    }
}

extension CurrentProcess {
    /// Processors online (at least 1).
    public static var processors: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// False only when no process has `pid` (ESRCH); a process of another user counts as existing.
    public static func processExists(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }
}

extension Files {
    /// True when `path` itself (not a symlink's target) is a directory owned by this process's user.
    public static func isOwnDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == getuid()
    }
}

extension ProcessResult {
    /// A signal ended it for going over its CPU time limit (SIGXCPU).
    public var endedByCPULimit: Bool { signal == SIGXCPU }
    /// A signal ended it for going over its file size limit (SIGXFSZ).
    public var endedByFileSizeLimit: Bool { signal == SIGXFSZ }
}
