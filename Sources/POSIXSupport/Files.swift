// Whole files: read, write atomically, private temporary directories and their removal. No symlink is
// followed where the content or the location is not ours to trust.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum Files {
    /// Reads a whole regular file, failing once it exceeds `limit` bytes. A FIFO or device planted at `path`
    /// is refused, never waited on (the open does not block, and only a regular file is read).
    public static func read(_ path: String, limit: Int = .max) throws(SystemError) -> [UInt8] {
        let fd = try FileDescriptor("open", path: path) { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        var info = stat()
        guard fstat(fd.number, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SystemError("read (not a regular file)", path: path, errno: .invalidArgument)
        }
        do {
            return try FileDescriptorIO.readAll(fd, limit: limit)
        } catch {
            throw SystemError(error.operation, path: path, errno: error.errno)
        }
    }

    /// The last `bytes` bytes of the regular file at `path` (all of it when shorter).
    public static func readTail(_ path: String, bytes: Int) throws(SystemError) -> [UInt8] {
        let fd = try FileDescriptor("open", path: path) { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        var info = stat()
        guard fstat(fd.number, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SystemError("read (not a regular file)", path: path, errno: .invalidArgument)
        }
        if Int(info.st_size) > bytes { lseek(fd.number, off_t(Int(info.st_size) - bytes), SEEK_SET) }
        do {
            // The file may grow meanwhile (a log being written): read on a little, keep the end.
            return Array(try FileDescriptorIO.readAll(fd, limit: bytes + (4 << 20)).suffix(bytes))
        } catch {
            throw SystemError(error.operation, path: path, errno: error.errno)
        }
    }

    /// Writes a new file that must not exist yet and is not a symlink (O_EXCL|O_NOFOLLOW).
    public static func create(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError) {
        let fd = try FileDescriptor("create", path: path) {
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        }
        do { try FileDescriptorIO.writeAll(fd, bytes) } catch {
            throw SystemError("write", path: path, errno: error.errno)
        }
    }

    /// Replaces `path` atomically: a temporary file beside it, then rename, so a reader (or make, after an
    /// interrupted build) never sees half an object file. Mode follows the umask like a compiler's output
    /// unless `mode` is narrower.
    public static func replace(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o666) throws(SystemError) {
        let temporary = path + ".sshcc-\(getpid())"
        // A new file: whatever sits at the temporary name (a left-over, a FIFO, a link) is removed first.
        unlink(temporary)
        let fd = try FileDescriptor("create", path: temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        }
        do {
            try FileDescriptorIO.writeAll(fd, bytes)
            fd.close()
            try SystemError.check("rename", path: path) { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw SystemError(error.operation, path: error.path ?? path, errno: error.errno)
        }
    }

    /// Creates a private (0700) directory `parent/prefixXXXXXX` and returns its path.
    public static func makeTemporaryDirectory(in parent: String, prefix: String) throws(SystemError) -> String {
        var template = Array((parent + "/" + prefix + "XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { throw SystemError("mkdtemp", path: parent) }
        return made
    }

    /// Removes a directory tree without following symlinks: a link inside is removed, never its target.
    public static func removeTree(_ path: String) {
        if let directory = try? FileDescriptor("open", { open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) })
        {
            removeContents(of: directory)
        }
        rmdir(path)
    }

    private static func removeContents(of directory: borrowing FileDescriptor) {
        guard let dir = fdopendir(dup(directory.number)) else { return }
        let names = entryNames(dir)
        closedir(dir)
        for name in names where unlinkat(directory.number, name, 0) != 0 {
            if let child = try? FileDescriptor(
                "open", { openat(directory.number, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) })
            {
                removeContents(of: child)
            }
            unlinkat(directory.number, name, AT_REMOVEDIR)
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// What the symbolic link `path` points to, or nil when it is none (or unreadable).
    public static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The names in a directory (without . and ..).
    public static func list(_ path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError("opendir", path: path) }
        defer { closedir(dir) }
        return entryNames(dir)
    }

    private static func entryNames(_ dir: OpaquePointer) -> [String] {
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates `path` and missing parents; an existing directory is fine.
    public static func makeDirectory(_ path: String, mode: mode_t) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw SystemError("mkdir", path: prefix) }
        }
    }

    /// A symbolic link at `path` to `target`, replacing a link or file already there.
    public static func symlink(_ target: String, at path: String) throws(SystemError) {
        unlink(path)
        guard Glibc.symlink(target, path) == 0 else { throw SystemError("symlink", path: path) }
    }

    /// Creates `path` (and missing parents) with mode 0700, or checks that the existing directory is ours
    /// and private: a socket in a directory others can write is a socket others can replace. Throws with
    /// `privateDirectoryProblem`'s reason when it is not.
    public static func makePrivateDirectory(_ path: String) throws(SystemError) {
        var info = stat()
        if lstat(path, &info) != 0 { try makeDirectory(path, mode: 0o700) }  // made once; every job checks
        if let problem = privateDirectoryProblem(path) {
            throw SystemError("trust \(path): \(problem)", errno: .permissionDenied)
        }
        if lstat(path, &info) == 0, info.st_mode & 0o077 != 0 { chmod(path, 0o700) }
    }

    /// Why `path` cannot serve as this user's private directory, or nil when it can: it must be a real
    /// directory (not a symlink) owned by this user, and every directory above it must be owned by root or
    /// this user and, if others may write it, sticky (like /tmp) — else someone could rename it away and put
    /// their own in its place. The first comer in /tmp is the case this guards against.
    public static func privateDirectoryProblem(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "it does not exist" }
        if (info.st_mode & S_IFMT) == S_IFLNK { return "it is a symbolic link" }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return "it is not a directory" }
        guard info.st_uid == getuid() else { return "it belongs to uid \(info.st_uid), not to you (uid \(getuid()))" }
        guard let real = realPath(path) else { return "it does not resolve" }
        return ancestorsProblem(real)
    }

    /// Why the settings in the file at `path` (symlinks followed) might not be what root or this user wrote,
    /// or nil: it must be a regular file owned by root or this user that no one else may write, in
    /// directories no one else could rename it out of.
    public static func trustedFileProblem(_ path: String) -> String? {
        guard let real = realPath(path) else { return "it does not resolve" }
        var info = stat()
        guard stat(real, &info) == 0 else { return "it cannot be read" }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return "it is not a regular file" }
        if info.st_uid != 0 && info.st_uid != getuid() { return "it belongs to uid \(info.st_uid)" }
        if info.st_mode & 0o022 != 0 { return "others may write it (mode \(String(info.st_mode & 0o777, radix: 8)))" }
        return ancestorsProblem(real)
    }

    /// The first directory above the resolved path `real` (and `/`) that lets another user replace what is
    /// below it, or nil.
    static func ancestorsProblem(_ real: String) -> String? {
        var ancestor = ""
        for part in real.split(separator: "/").dropLast() {
            ancestor += "/" + part
            if let problem = sharedAncestorProblem(ancestor) { return problem }
        }
        return sharedAncestorProblem("/")
    }

    /// Why a directory above a private one lets another user replace what is below it, or nil.
    static func sharedAncestorProblem(_ path: String) -> String? {
        sharedDirectoryProblem(path, named: "\(path) above it")
    }

    /// Why directory `path` (called `name` in the answer) lets another user replace what is in it — it is
    /// neither root's nor this user's, or others may write it and it is not sticky — or nil.
    public static func sharedDirectoryProblem(_ path: String, named name: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "\(name) cannot be read" }
        if info.st_uid != 0 && info.st_uid != getuid() { return "\(name) belongs to uid \(info.st_uid)" }
        if info.st_mode & 0o022 != 0 && info.st_mode & S_ISVTX == 0 {
            return "\(name) is writable by others and not sticky"
        }
        return nil
    }

    /// `path` with every symlink resolved (realpath), nil when it does not resolve.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// What changes when the file at `path` (symlinks followed) is replaced or rewritten: device, inode, size
    /// and modification time (ns). Nil when it cannot be read.
    public static func fingerprint(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [
            UInt64(info.st_dev), UInt64(info.st_ino), UInt64(info.st_size),
            UInt64(bitPattern: Int64(info.st_mtim.tv_sec)),
            UInt64(info.st_mtim.tv_nsec),
        ]
    }

    public static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}
