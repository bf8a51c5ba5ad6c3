// A server-wide limit on concurrent compiles, shared by every sshccd process of every user: N lock files
// `slot-K` in one directory; holding an flock on one is holding a compile slot. A job that finds none free
// waits — the client just sees a slower job — and so does a job while the machine's available memory is
// below a threshold. Fair between users: each user lines up one waiter at a time (an flock on its
// `user-UID.wait`, whose mtime says since when it waits), and a freed slot goes to the user who has waited
// longest, so one user's hundred queued jobs take turns with another's one, not a hundred to one. A new job
// takes a free slot at once only when nobody is waiting.
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

    public enum Acquired {
        case acquired(JobSlot, waitedMs: Int)
        /// The client went away while the job waited.
        case abandoned
        /// SIGTERM arrived while the job waited.
        case terminating
    }

    /// Waits for a slot (and enough memory), watching the client; `waiting` is told once why it waits.
    public static func acquire(_ settings: JobSlotSettings, watch: StreamWatch?, waiting: (String) -> Void = { _ in })
        throws(SystemError) -> Acquired
    {
        let started = Monotonic.nanoseconds()
        if let slot = try tryAcquire(settings) { return .acquired(slot, waitedMs: 0) }
        if settings.minimumFreeMemory > 0, let available = availableMemory(), available < settings.minimumFreeMemory {
            waiting("available memory \(available >> 20) MB is below \(settings.minimumFreeMemory >> 20) MB")
        } else {
            waiting("all \(settings.count) compile slots are busy")
        }
        // Line up behind this user's other waiters, then poll for a slot. (Written: its mtime is stamped.)
        let turn = try open(settings.directory + "/user-\(getuid()).wait", writable: true)
        defer { close(turn) }
        while flock(turn, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw SystemError("lock", path: settings.directory) }
            if let end = pause(watch) { return end }
        }
        futimens(turn, nil)  // "waiting since now", for the other users' waiters to compare
        let since = modificationTime(turn)
        while true {
            if enoughMemory(settings), !othersWaiting(settings, olderThan: since), let slot = try tryAny(settings) {
                return .acquired(slot, waitedMs: Int((Monotonic.nanoseconds() - started) / 1_000_000))
            }
            if let end = pause(watch) { return end }
        }
    }

    /// A slot if one is free now and nobody waits for one (and memory is enough); nil instead of waiting.
    public static func tryAcquire(_ settings: JobSlotSettings) throws(SystemError) -> JobSlot? {
        try prepareDirectory(settings.directory)
        guard enoughMemory(settings), !othersWaiting(settings, olderThan: nil) else { return nil }
        return try tryAny(settings)
    }

    /// One poll interval of waiting; the reason to stop waiting, if any.
    private static func pause(_ watch: StreamWatch?) -> Acquired? {
        guard let watch else {
            usleep(pollInterval)
            return nil
        }
        watch.pause(milliseconds: Int32(pollInterval / 1000))
        if watch.closed { return .abandoned }
        return watch.terminating ? .terminating : nil
    }

    /// True when another user's waiter (a locked `user-*.wait`) has waited longer than `since`; with `since`
    /// nil, when any waiter of any user (this one's too) is waiting at all.
    static func othersWaiting(_ settings: JobSlotSettings, olderThan since: timespec?) -> Bool {
        guard let names = try? Files.list(settings.directory) else { return false }
        let mine = "user-\(getuid()).wait"
        for name in names where name.hasPrefix("user-") && name.hasSuffix(".wait") && (since == nil || name != mine) {
            let fd = Glibc.open(settings.directory + "/" + name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if let since {
                let theirs = modificationTime(fd)
                guard (theirs.tv_sec, theirs.tv_nsec) < (since.tv_sec, since.tv_nsec) else { continue }
            }
            if flock(fd, LOCK_SH | LOCK_NB) == 0 {
                flock(fd, LOCK_UN)  // nobody holds it: that user has no waiter now
                continue
            }
            return true
        }
        return false
    }

    static func modificationTime(_ fd: Int32) -> timespec {
        var info = stat()
        fstat(fd, &info)
        return info.st_mtim
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

    /// Opens (creating, 0644) a file of the slots directory; read-only is enough to lock it.
    static func open(_ path: String, writable: Bool = false) throws(SystemError) -> Int32 {
        try SystemError.check("open", path: path) {
            Glibc.open(path, (writable ? O_RDWR : O_RDONLY) | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
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
