// Job directories a crashed or killed sshccd left behind. Each is named `sshccd-<pid>-XXXXXX`; a later
// sshccd of the same user removes those whose process is gone. Another user's directories, and those of
// live processes, are never touched.

import Logging
import POSIXSupport

public enum StaleJobs {
    /// Removes this user's job directories in `parent` whose sshccd no longer runs; returns how many.
    @discardableResult
    public static func sweep(in parent: String, logger: Logger) -> Int {
        guard let names = try? Files.list(parent) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(JobRunner.directoryPrefix) {
            guard let pid = owner(of: name), pid != CurrentProcess.id else { continue }
            let path = parent + "/" + name
            guard Files.isOwnDirectory(path), !CurrentProcess.processExists(pid) else { continue }
            Files.removeTree(path)
            removed += 1
        }
        if removed > 0 { logger.notice("removed \(removed) job directories left by sshccd processes that died") }
        return removed
    }

    /// The PID in `sshccd-<pid>-XXXXXX`.
    static func owner(of name: String) -> Int32? {
        let rest = name.dropFirst(JobRunner.directoryPrefix.count)
        guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { return nil }
        return pid
    }
}
