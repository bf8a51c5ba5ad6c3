// The object cache on disk. Each account's sshccd writes only its own part, `ROOT/UID/KK/KEY` (KK: the key's
// first two hex digits), and only from its own successful compiles; it reads its own part and the parts of
// the accounts the administrator lets it trust. An entry is taken from another account's part only if that
// account owns it and no one else may write it (checked on the opened file), and only if it names the key
// asked for and its checksum holds (CacheEntry). Writes are atomic (a temporary file, then rename); each
// part is kept under its size by dropping the least recently used entries of the directory just written.
// A compile in flight holds `KEY.lock` (flock): the same job from another channel, or from a trusted
// account, waits for it and takes its entry instead of compiling it twice.

import CompileCore
import POSIXSupport

public final class ObjectStore {
    public let settings: ObjectCacheSettings
    let uid = CurrentProcess.userID
    /// The largest entry read.
    let entryLimit: Int
    /// Told of each damaged entry met (path, what is wrong).
    let damaged: (String, String) -> Void

    /// An entry found: the reply and whose part it came from.
    public struct Hit {
        public var reply: CachedReply
        public var owner: UInt32
    }

    /// Opens the cache, making this account's part if needed; nil (with the reason) when the root cannot be
    /// trusted or the part cannot be made.
    public static func open(
        _ settings: ObjectCacheSettings, entryLimit: Int, damaged: @escaping (String, String) -> Void
    ) -> Result<ObjectStore, StoreProblem> {
        let root = settings.root
        if Files.status(root) == nil { try? Files.makeDirectory(root, mode: 0o755) }
        guard let status = Files.status(root), status.isDirectory else {
            return .failure(StoreProblem("\(root) is not a directory"))
        }
        if let problem = Files.sharedDirectoryProblem(root, named: root) { return .failure(StoreProblem(problem)) }
        let own = root + "/\(CurrentProcess.userID)"
        if Files.status(own) == nil { try? Files.makeDirectory(own, mode: 0o755) }
        guard let part = Files.status(own), part.isDirectory, part.owner == CurrentProcess.userID,
            part.mode & 0o022 == 0
        else { return .failure(StoreProblem("\(own) is not a directory of this account that only it may write")) }
        return .success(ObjectStore(settings, entryLimit: entryLimit, damaged: damaged))
    }

    public struct StoreProblem: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    init(_ settings: ObjectCacheSettings, entryLimit: Int, damaged: @escaping (String, String) -> Void) {
        self.settings = settings
        self.entryLimit = entryLimit
        self.damaged = damaged
    }

    /// The accounts named in `objects-share`, looked up once (not per lookup and per pass of a wait).
    private lazy var named: [UInt32] = {
        guard case .accounts(let names) = settings.share else { return [] }
        return names.compactMap { UInt32($0) ?? Environment.userID(named: $0) }
    }()

    /// The accounts whose parts are read, this one's first.
    func trusted() -> [UInt32] {
        var others: [UInt32]
        switch settings.share {
        case .own: others = []
        // Listed each time: a part made since is an account to read.
        case .all: others = ((try? Files.list(settings.root)) ?? []).compactMap { UInt32($0) }
        case .accounts: others = named
        }
        return [uid] + others.filter { $0 != uid }.sorted()
    }

    func path(_ key: CacheKey, of account: UInt32) -> String {
        let name = key.description
        return settings.root + "/\(account)/" + name.prefix(2) + "/" + name
    }

    /// The entry for `key` from the first trusted part that has a sound one.
    public func lookup(_ key: CacheKey) -> Hit? {
        for account in trusted() {
            let part = settings.root + "/\(account)"
            if account != uid {
                // Another account's part: a directory it owns that no one else may write.
                guard let status = Files.status(part), status.isDirectory, status.owner == account,
                    status.mode & 0o022 == 0
                else { continue }
            }
            let file = path(key, of: account)
            guard let bytes = Files.readOwned(file, owner: account, limit: entryLimit) else { continue }
            do {
                let reply = try CacheEntry.decode(bytes, key: key)
                if account == uid { Files.touch(file) }
                return Hit(reply: reply, owner: account)
            } catch {
                damaged(file, error.description)
                if account == uid { Files.remove(file) }
            }
        }
        return nil
    }

    /// Keeps `reply` as the answer to `key` in this account's part, then trims the directory written.
    public func store(_ key: CacheKey, _ reply: CachedReply) throws(SystemError) {
        let file = path(key, of: uid)
        try makeDirectory(of: file)
        try Files.replace(file, CacheEntry.encode(reply, key: key), mode: 0o644)
        trim(PathName.directory(file))
    }

    /// Makes the directory `file` goes in (in this account's part), if missing.
    func makeDirectory(of file: String) throws(SystemError) {
        let directory = PathName.directory(file)
        if Files.status(directory) == nil { try Files.makeDirectory(directory, mode: 0o755) }
    }

    /// Drops the least recently used files of `directory` while it holds more than its share of the part.
    func trim(_ directory: String) {
        let share = max(settings.maximumBytes / 256, 1)
        var files = ((try? Files.list(directory)) ?? []).compactMap { name -> (String, FileStatus)? in
            let path = directory + "/" + name
            return Files.status(path).flatMap { $0.isRegularFile ? (path, $0) : nil }
        }
        var total = files.reduce(0) { $0 + $1.1.size }
        guard total > share else { return }
        files.sort { $0.1.modified < $1.1.modified }
        for (path, status) in files where total > share * 9 / 10 {
            if path.hasSuffix(".lock"), (try? FileLock.attempt(path, exclusive: true)) == nil { continue }  // in use
            Files.remove(path)
            total -= status.size
        }
    }

    /// What to do about a job whose key is not in the cache yet.
    public enum Claim {
        /// Another compile of it ended meanwhile: its answer.
        case hit(Hit)
        /// This job compiles it, holding the lock until `finished`.
        case compile(InFlight)
        /// `keepWaiting` said stop (the client left).
        case gaveUp
    }

    /// A compile in flight: its lock, let go (and its file removed) once the entry is stored or not. Without
    /// a lock (its file could not be made) the job compiles all the same; only the sharing is lost.
    public final class InFlight {
        let lock: FileLock?
        let path: String
        init(lock: FileLock?, path: String) { (self.lock, self.path) = (lock, path) }
        deinit { if lock != nil { Files.remove(path) } }
    }

    /// Whether another process holds `path`'s lock now (a file that cannot be opened is nobody's lock).
    static func held(_ path: String) -> Bool {
        guard Files.status(path) != nil else { return false }
        do { return try FileLock.attempt(path, exclusive: false) == nil } catch { return false }
    }

    /// Looks the key up; when it is missing, takes the right to compile it — or, while this account or a
    /// trusted one compiles it already, waits for that (`keepWaiting` is asked between looks, and sleeps a
    /// moment itself) and takes its entry.
    public func claim(_ key: CacheKey, keepWaiting: () -> Bool) -> Claim {
        while true {
            if let hit = lookup(key) { return .hit(hit) }
            let lockPath = path(key, of: uid) + ".lock"
            try? makeDirectory(of: lockPath)
            let lock: FileLock?
            do {
                lock = try FileLock.attempt(lockPath, exclusive: true)
            } catch {
                return .compile(InFlight(lock: nil, path: lockPath))
            }
            if let lock {
                // A trusted account that holds its lock for this key compiles it now.
                if !trusted().dropFirst().contains(where: { Self.held(path(key, of: $0) + ".lock") }) {
                    // The holder before may have stored it just before letting go.
                    if let hit = lookup(key) { return .hit(hit) }
                    return .compile(InFlight(lock: lock, path: lockPath))
                }
            }
            guard keepWaiting() else { return .gaveUp }
        }
    }
}
