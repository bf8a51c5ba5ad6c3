// A private file that processes append lines to (the logs of sshccd and the mux daemon): opened only when it
// is this user's regular file, its size and identity read from the open descriptor, the wall clock in UTC.

#if canImport(Glibc)
    import Glibc
#endif

public enum AppendFile {
    /// `path` opened for appending (made 0600 if missing), if it is a regular file of this user's: never a FIFO
    /// (that would block every write), a symlink, or a file someone else made to read our lines.
    public static func open(_ path: String) -> FileDescriptor? {
        guard
            let fd = try? FileDescriptor(
                "open",
                {
                    Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
                })
        else { return nil }
        var info = stat()
        guard fstat(fd.number, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else {
            return nil
        }
        fd.setBlocking(true)
        return fd
    }

    /// The open file's size, whether a name still links to it, and its device and inode.
    public static func state(_ fd: borrowing FileDescriptor) -> (size: Int, linked: Bool, identity: [UInt64])? {
        var info = stat()
        guard fstat(fd.number, &info) == 0 else { return nil }
        return (Int(info.st_size), info.st_nlink > 0, [UInt64(info.st_dev), UInt64(info.st_ino)])
    }

    /// Renames `path` to `newPath` (replacing it); false when that failed.
    @discardableResult
    public static func rename(_ path: String, to newPath: String) -> Bool { Glibc.rename(path, newPath) == 0 }
}

/// The wall clock, for log lines.
public enum WallClock {
    /// Now in UTC: `2026-11-22T09:15:02.123Z`.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
