// A server-wide limit on concurrent compiles, shared by every sshccd process of every user: N lock files
// `slot-K` in one directory; holding an flock on one is holding a compile slot. A job that finds none free
// waits — the client just sees a slower job — and so does a job while the machine's available memory is
// below a threshold. Fair between users: each user lines up one waiter at a time (an flock on
// `user-UID.wait`), so one user's hundred queued jobs compete for a freed slot as one, not as a hundred.
// flock needs only read access, so a slot file made by one user serves all; the directory is sticky (1777)
// so nobody can delete another's files. The kernel releases a lock when its holder exits, however it exits.

import POSIXSupport

#if canImport(Glibc)
    import Glibc
#endif

public struct JobSlotSettings: Equatable, Sendable {
    /// Concurrent compiles on this machine (default: online CPUs).
    public var count: Int
    /// Where the slot files live; shared by all users (default /tmp/sshccd-slots).
    public var directory: String
    /// Jobs wait while MemAvailable is below this many bytes (0: never).
    public var minimumFreeMemory: Int

    public init(
        count: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))), directory: String = "/tmp/sshccd-slots",
        minimumFreeMemory: Int = 256 << 20
    ) {
        self.count = count
        self.directory = directory
        self.minimumFreeMemory = minimumFreeMemory
    }
}

/// A held slot; dropping it frees the slot.
public final class JobSlot {
    let fd: Int32
    public let index: Int
    init(fd: Int32, index: Int) {
        self.fd = fd
        self.index = index
    }
    deinit { close(fd) }
}

public enum JobSlots {
    /// How often a waiting job looks again for a free slot or enough memory.
    static let pollInterval: useconds_t = 20_000

    /// Waits for a slot (and enough memory); `waited` tells the caller how long, for its log.
    public static func acquire(_ settings: JobSlotSettings) throws(SystemError) -> (slot: JobSlot, waitedMs: Int) {
        let started = Monotonic.nanoseconds()
        try prepareDirectory(settings.directory)
        if enoughMemory(settings), let slot = try tryAny(settings) { return (slot, 0) }
        // Line up behind this user's other waiters, then poll for a slot.
        let turn = try open(settings.directory + "/user-\(getuid()).wait")
        defer { close(turn) }
        while flock(turn, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SystemError("lock", path: settings.directory) }
        }
        while true {
            if enoughMemory(settings), let slot = try tryAny(settings) {
                return (slot, Int((Monotonic.nanoseconds() - started) / 1_000_000))
            }
            usleep(pollInterval)
        }
    }

    /// A free slot, if any, without waiting.
    static func tryAny(_ settings: JobSlotSettings) throws(SystemError) -> JobSlot? {
        // Start at a per-process place so that parallel jobs do not all fight over slot 0.
        let first = Int(getpid()) % settings.count
        for step in 0..<settings.count {
            let index = (first + step) % settings.count
            let fd = try open(settings.directory + "/slot-\(index)")
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return JobSlot(fd: fd, index: index) }
            close(fd)
        }
        return nil
    }

    static func open(_ path: String) throws(SystemError) -> Int32 {
        try SystemError.check("open", path: path) {
            Glibc.open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        }
    }

    /// Creates the shared directory (sticky, writable by all) or checks the one there is.
    static func prepareDirectory(_ path: String) throws(SystemError) {
        if mkdir(path, 0o1777) == 0 {
            chmod(path, 0o1777)  // mkdir applies the umask
            return
        }
        guard errno == EEXIST else { throw SystemError("mkdir", path: path) }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemError("stat", path: path) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SystemError("use (not a directory)", path: path, errno: .notDirectory)
        }
        // Another user's directory could be emptied or filled under us: only root's or our own, and if
        // others may write there, sticky.
        let othersWrite = info.st_mode & 0o022 != 0
        guard info.st_uid == 0 || info.st_uid == getuid(), !othersWrite || info.st_mode & S_ISVTX != 0 else {
            throw SystemError(
                "use (owned by another user, or writable by others without the sticky bit)", path: path,
                errno: .permissionDenied)
        }
    }

    static func enoughMemory(_ settings: JobSlotSettings) -> Bool {
        guard settings.minimumFreeMemory > 0, let available = availableMemory() else { return true }
        return available >= settings.minimumFreeMemory
    }

    /// MemAvailable from /proc/meminfo, in bytes.
    static func availableMemory() -> Int? {
        guard let bytes = try? Files.read("/proc/meminfo", limit: 16 << 10) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("MemAvailable:")
        {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
}
