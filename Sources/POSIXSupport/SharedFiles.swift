// Files other accounts may have written (a shared object cache): read only what the named account owns and
// no one else may change, look at a file without following links, age a file, and hold a lock without
// waiting.

#if canImport(Glibc)
    import Glibc
#endif

/// What `lstat` says of a path.
public struct FileStatus: Equatable, Sendable {
    public var owner: UInt32
    /// Permission bits (and set-id, sticky).
    public var mode: UInt32
    public var size: Int
    /// Seconds since the epoch.
    public var modified: Int
    public var isDirectory: Bool
    public var isRegularFile: Bool
}

extension Files {
    /// The path itself (a link is not followed), nil when it cannot be looked at.
    public static func status(_ path: String) -> FileStatus? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return FileStatus(
            owner: info.st_uid, mode: info.st_mode & 0o7777, size: Int(info.st_size), modified: info.st_mtim.tv_sec,
            isDirectory: (info.st_mode & S_IFMT) == S_IFDIR, isRegularFile: (info.st_mode & S_IFMT) == S_IFREG)
    }

    /// The whole file at `path` if it is a regular file (not a link) that account `owner` owns and no one else
    /// may write, at most `limit` bytes; nil otherwise. Checked on the opened file, so a file swapped in
    /// between the look and the read is not read.
    public static func readOwned(_ path: String, owner: UInt32, limit: Int) -> [UInt8]? {
        guard
            let fd = try? FileDescriptor(
                "open", path: path, { open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) })
        else { return nil }
        var info = stat()
        guard fstat(fd.number, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == owner,
            info.st_mode & 0o022 == 0, info.st_size <= limit
        else { return nil }
        return try? FileDescriptorIO.readAll(fd, limit: limit)
    }

    /// Sets the file's modification time to now (a cache's "recently used").
    public static func touch(_ path: String) {
        _ = utimensat(AT_FDCWD, path, nil, AT_SYMLINK_NOFOLLOW)
    }
}

extension FileLock {
    /// Locks `path` without waiting: exclusively (creating it, mode 0644, so that others can see it held) or
    /// shared (an existing file only); nil when another holds it. Throws when it cannot be opened or locked.
    public static func attempt(_ path: String, exclusive: Bool) throws(SystemError) -> FileLock? {
        let flags = exclusive ? O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW : O_RDONLY | O_CLOEXEC | O_NOFOLLOW
        let file = try FileDescriptor("open", path: path) { open(path, flags, 0o644) }
        while flock(file.number, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { return nil }
            guard errno == EINTR else { throw SystemError("lock", path: path) }
        }
        return FileLock(holding: file)
    }
}

extension Environment {
    /// The account named `name`, nil when there is none.
    public static func userID(named name: String) -> UInt32? {
        getpwnam(name).map { $0.pointee.pw_uid }
    }
}
