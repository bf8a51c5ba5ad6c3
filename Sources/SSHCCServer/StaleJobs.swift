// Job directories a crashed or killed sshccd left behind. Each is named `sshccd-<pid>-XXXXXX`; a later
// sshccd of the same user removes those whose process is gone. Another user's directories, and those of
// live processes, are never touched.

import Logging
import POSIXSupport

#if canImport(Glibc)
    import Glibc
#endif

public enum StaleJobs {
    /// Removes this user's job directories in `parent` whose sshccd no longer runs; returns how many.
    @discardableResult
    public static func sweep(in parent: String, logger: Logger) -> Int {
        guard let names = try? Files.list(parent) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(JobRunner.directoryPrefix) {
            guard let pid = owner(of: name), pid != getpid() else { continue }
            let path = parent + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else {
                continue
            }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            Files.removeTree(path)
            removed += 1
        }
        if removed > 0 { logger.notice("removed \(removed) job directories left by sshccd processes that died") }
        return removed
    }

    /// The PID in `sshccd-<pid>-XXXXXX`.
    static func owner(of name: String) -> pid_t? {
        let rest = name.dropFirst(JobRunner.directoryPrefix.count)
        guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0 else { return nil }
        return pid
    }
}
