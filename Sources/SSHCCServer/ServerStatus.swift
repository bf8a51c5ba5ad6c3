// `sshccd --status`, for the administrator: the machine's compile slots (shared by every sshccd of every
// account, JobSlots), who holds each — account, client address, key or certificate, file, how long — who
// waits, and the latest jobs of every account's log. Read from the abstract names in /proc/net/unix, the
// holders' /proc entries (root sees every account's; anyone else only their own) and the log files.

import CompileCore
import POSIXSupport

public struct ServerStatus {
    public struct Holder {
        public var pid: Int32?
        public var account: String
        public var client: ClientIdentity?
        /// The file its job compiles (nil: an sshccd too old to say).
        public var file: String?
        public var seconds: Double?
    }

    public var slotSet: String
    public var slotCount: Int
    /// Each held slot's holder, by slot number.
    public var holders: [Int: Holder] = [:]
    /// The first waiter of each account (one lines up at a time per account), longest waiting first.
    public var waiters: [Holder] = []
    public var processors = CurrentProcess.processors
    public var availableMemory: Int?
    public var minimumFreeMemory: Int
    /// The latest job lines of the logs, oldest first.
    public var recentJobs: [String] = []
    /// Logs that could not be read, and why.
    public var unreadableLogs: [String] = []
    /// Of the compiled jobs in the logs' latest lines, those answered from the object cache.
    public var jobsLogged = 0
    public var cacheHits = 0

    static let recentJobCount = 20

    /// Looks at the machine now.
    public static func gather(_ options: ServerOptions) -> ServerStatus {
        let settings = options.slots
        var status = ServerStatus(
            slotSet: settings.name, slotCount: settings.count, availableMemory: JobSlots.availableMemory(),
            minimumFreeMemory: settings.minimumFreeMemory)
        let bound = JobSlots.boundSockets()
        let owners = socketOwners(Set(bound.map(\.inode)))
        let now = Monotonic.nanoseconds()
        func seconds(_ since: UInt64) -> Double { since < now ? Double(now - since) / 1e9 : 0 }
        let inodes = Dictionary(bound.map { (String($0.name), $0.inode) }, uniquingKeysWith: { a, _ in a })
        for index in 0..<settings.count {
            guard let inode = inodes[String(decoding: SlotNames.slot(settings, index: index), as: UTF8.self)] else {
                continue
            }
            let pid = owners[inode]
            status.holders[index] = Holder(
                pid: pid, account: pid.flatMap(processAccount) ?? "?", client: pid.flatMap(clientOf), file: nil,
                seconds: nil)
        }
        let names = bound.map(\.name)
        for held in SlotNames.held(settings, in: names) {
            guard var holder = status.holders[held.index] else { continue }
            holder.file = held.file
            holder.seconds = seconds(held.since)
            holder.account = Environment.userName(of: held.uid)
            status.holders[held.index] = holder
        }
        for waiter in SlotNames.waiters(settings, in: names).sorted(by: { $0.since < $1.since }) {
            let name = String(
                decoding: SlotNames.waiting(settings, uid: waiter.uid, since: waiter.since), as: UTF8.self)
            let pid = inodes[name].flatMap { owners[$0] }
            status.waiters.append(
                Holder(
                    pid: pid, account: Environment.userName(of: waiter.uid), client: pid.flatMap(clientOf), file: nil,
                    seconds: seconds(waiter.since)))
        }
        let logged = recentJobs(logPattern: options.logPattern)
        (status.recentJobs, status.unreadableLogs) = (logged.lines, logged.unreadable)
        (status.jobsLogged, status.cacheHits) = (logged.answered, logged.hits)
        return status
    }

    /// The process holding each socket inode, from /proc/PID/fd (other accounts' only for root).
    static func socketOwners(_ inodes: Set<UInt64>) -> [UInt64: Int32] {
        guard !inodes.isEmpty, let processes = try? Files.list("/proc") else { return [:] }
        var owners: [UInt64: Int32] = [:]
        for entry in processes {
            guard let pid = Int32(entry), let descriptors = try? Files.list("/proc/\(pid)/fd") else { continue }
            for descriptor in descriptors {
                guard let target = Files.linkTarget("/proc/\(pid)/fd/\(descriptor)"), target.hasPrefix("socket:["),
                    let inode = UInt64(target.dropFirst(8).dropLast()), inodes.contains(inode)
                else { continue }
                owners[inode] = pid
            }
        }
        return owners
    }

    static func processAccount(_ pid: Int32) -> String? {
        guard let bytes = try? Files.read("/proc/\(pid)/status", limit: 64 << 10) else { return nil }
        let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("Uid:") }
        return line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { UInt32($0) }
            .map(Environment.userName(of:))
    }

    /// The client of an sshccd process, from the environment sshd gave it (readable by root and its account).
    static func clientOf(_ pid: Int32) -> ClientIdentity? {
        guard let bytes = try? Files.read("/proc/\(pid)/environ", limit: 1 << 20),
            let account = processAccount(pid)
        else { return nil }
        var environment: [String: String] = [:]
        for entry in bytes.split(separator: 0) {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            environment[String(decoding: entry[..<equals], as: UTF8.self)] = String(
                decoding: entry[(equals + 1)...], as: UTF8.self)
        }
        guard environment["SSH_CONNECTION"] != nil else { return nil }
        return ClientIdentity.from(environment: { environment[$0] }, account: account) { path in
            try? Files.read(path, limit: 64 << 10)
        }
    }

    /// The latest `job N:` lines of the logs the configured path names: with `%u` in its file name, every
    /// account's log in that directory; otherwise this account's own.
    static func recentJobs(logPattern: String) -> (lines: [String], unreadable: [String], answered: Int, hits: Int) {
        var paths: [String] = []
        let directory = PathName.directory(logPattern)
        let base = PathName.base(logPattern)
        if base.contains("%u") && !directory.contains("%") {
            let parts = base.components(separatedBy: "%u")
            for name in (try? Files.list(directory)) ?? [] where parts.count == 2 {
                if name.hasPrefix(parts[0]) && name.hasSuffix(parts[1]) && name.count >= parts[0].count + parts[1].count
                {
                    paths.append(directory + "/" + name)
                }
            }
        } else {
            paths = [ServerOptions.expandingTokens(logPattern)]
        }
        var lines: [String] = []
        var unreadable: [String] = []
        for path in paths.sorted() {
            do {
                lines += LogTail.jobLines(try LogTail.read(path))
            } catch {
                unreadable.append("\(path): \(error)")
            }
        }
        let answered = lines.filter { $0.contains(" status=") }
        let hits = answered.filter { $0.contains(" cache-hit") }.count
        // Lines start with their UTC time: sorting them sorts the accounts' logs into one.
        return (Array(lines.sorted().suffix(recentJobCount)), unreadable, answered.count, hits)
    }

    // MARK: Rendering

    public func render() -> String {
        var text =
            "compile slots \"\(slotSet)\": \(holders.count) of \(slotCount) busy, \(waiters.count) account(s) waiting; "
        text += "\(processors) CPUs"
        if let availableMemory {
            text += ", \(availableMemory >> 20) MB available (jobs wait below \(minimumFreeMemory >> 20) MB)"
        }
        text += "\n"
        for index in 0..<slotCount {
            guard let holder = holders[index] else {
                text += "  slot \(index): free\n"
                continue
            }
            text += "  slot \(index): \(Self.describe(holder))\n"
        }
        for waiter in waiters { text += "  waiting: \(Self.describe(waiter))\n" }
        if holders.values.contains(where: { $0.client == nil }) || waiters.contains(where: { $0.client == nil }) {
            text += "  (a client shown as unknown: run as root to see other accounts' clients)\n"
        }
        if jobsLogged > 0 {
            text +=
                "object cache: \(cacheHits) of the logs' latest \(jobsLogged) answered jobs came from it "
                + "(\(cacheHits * 100 / jobsLogged)%)\n"
        }
        text += recentJobs.isEmpty ? "no recent jobs in the logs\n" : "recent jobs (newest last):\n"
        for line in recentJobs { text += "  \(line)\n" }
        for problem in unreadableLogs { text += "  cannot read \(problem)\n" }
        return text
    }

    static func describe(_ holder: Holder) -> String {
        var parts = [holder.client?.text ?? "\(holder.account) (client unknown)"]
        if let file = holder.file { parts.append(file) }
        if let seconds = holder.seconds { parts.append("\(Int(seconds)) s") }
        if let pid = holder.pid { parts.append("pid \(pid)") }
        return parts.joined(separator: ", ")
    }

    public func json() -> String {
        func holderValue(_ holder: Holder) -> JSONValue {
            .object([
                ("account", .string(holder.account)), ("pid", holder.pid.map { .int(Int($0)) } ?? .null),
                ("client_address", holder.client?.address.map { .string($0) } ?? .null),
                ("client_key", holder.client?.key.map { .string($0) } ?? .null),
                ("file", holder.file.map { .string($0) } ?? .null),
                ("seconds", holder.seconds.map { .number($0) } ?? .null),
            ])
        }
        let slots: [JSONValue] = (0..<slotCount).map { index in
            .object([("slot", .int(index)), ("holder", holders[index].map(holderValue) ?? .null)])
        }
        return JSONValue.object([
            ("slot_set", .string(slotSet)), ("slots", .int(slotCount)), ("busy", .int(holders.count)),
            ("processors", .int(processors)),
            ("available_memory_bytes", availableMemory.map { .int($0) } ?? .null),
            ("slot_holders", .array(slots)), ("waiting", .array(waiters.map(holderValue))),
            ("recent_jobs", .array(recentJobs.map { .string($0) })),
            ("jobs_logged", .int(jobsLogged)), ("cache_hits", .int(cacheHits)),
            ("unreadable_logs", .array(unreadableLogs.map { .string($0) })),
        ]).text + "\n"
    }
}

/// The end of a log file and the job lines in it.
enum LogTail {
    /// The last `bytes` of the file at `path`, from the first whole line.
    static func read(_ path: String, bytes: Int = 256 << 10) throws(SystemError) -> [String] {
        let data = try Files.readTail(path, bytes: bytes)
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        if data.count == bytes, !lines.isEmpty { lines.removeFirst() }  // cut in the middle
        return lines
    }

    /// Lines about one job (`… sshccd[PID] LEVEL: job N: …`).
    static func jobLines(_ lines: [String]) -> [String] {
        lines.filter { line in
            guard let colon = line.range(of: ": job ") else { return false }
            return line[..<colon.lowerBound].contains("] ")
        }
    }

    /// Lines that tell of a failure (warning or error level), for `sshcc doctor`.
    static func failureLines(_ lines: [String]) -> [String] {
        lines.filter { $0.contains("] warning: ") || $0.contains("] error: ") }
    }
}
