// A server-wide limit on concurrent compiles, shared by every sshccd process of every user: N slots, each an
// abstract Unix socket name (`@sshccd-slots:SET/slot/K`, in the kernel's namespace, not the file system);
// binding the name is holding the slot, and the kernel frees it when its holder closes it or exits, however
// it exits. Nothing is on disk, so there is nothing for a first comer to own, fill, replace or delete: the
// slots work for every account, out of the box and after a reboot, and nobody can take a slot that another
// holds (a bind is exclusive). A job that finds none free waits — the client just sees a slower job — and so
// does a job while the machine's available memory is below a threshold. Fair between users: each user lines
// up one waiter at a time (`@…/line/UID`), which announces since when it waits (`@…/waiting/UID/SINCE`, seen
// by all in /proc/net/unix), and a freed slot goes to the user who has waited longest, so one user's hundred
// queued jobs take turns with another's one. A new job takes a free slot at once only when nobody waits.
// The names live in the network namespace: every sshccd of a machine shares them as long as sshd runs them in
// one (the usual case). A user with a shell could bind the names and hold slots, as they could hold the CPUs.

import CompileCore
import POSIXSupport

public struct JobSlotSettings: Equatable, Sendable {
    /// Concurrent compiles on this machine (default: online CPUs).
    public var count: Int
    /// The name of the slot set every sshccd of the machine shares (`--slots`, default `sshccd`).
    public var name: String
    /// Jobs wait while MemAvailable is below this many bytes (0: never).
    public var minimumFreeMemory: Int

    public init(
        count: Int = CurrentProcess.processors, name: String = "sshccd",
        minimumFreeMemory: Int = 256 << 20
    ) {
        self.count = count
        self.name = name
        self.minimumFreeMemory = minimumFreeMemory
    }
}

/// A held slot; dropping it frees the slot.
public final class JobSlot {
    /// The socket bound to the slot's name: the slot is held while it is open.
    let name: FileDescriptor
    public let index: Int
    /// The `job/…` name that tells `sshccd --status` whose job holds the slot (JobSlots.announce).
    var announcement: FileDescriptor?
    init(name: consuming FileDescriptor, index: Int) {
        self.name = consume name
        self.index = index
    }
}

public enum JobSlots {
    /// How often a waiting job looks again for a free slot or enough memory.
    static let pollMilliseconds = 20

    public enum Acquired {
        case acquired(JobSlot, waitedMs: Int)
        /// The client went away while the job waited.
        case abandoned
        /// SIGTERM arrived while the job waited.
        case terminating
    }

    /// Waits for a slot (and enough memory), watching the client; `waiting` is told once why it waits.
    public static func acquire(_ settings: JobSlotSettings, watch: StreamWatch?, waiting: (String) -> Void = { _ in })
        -> Acquired
    {
        let started = Monotonic.nanoseconds()
        if let slot = tryAcquire(settings) { return .acquired(slot, waitedMs: 0) }
        if settings.minimumFreeMemory > 0, let available = availableMemory(), available < settings.minimumFreeMemory {
            waiting("available memory \(available >> 20) MB is below \(settings.minimumFreeMemory >> 20) MB")
        } else {
            waiting("all \(settings.count) compile slots are busy")
        }
        // Line up behind this user's other waiters, then announce since when this one waits and poll. Both
        // names are held (their sockets open) until this function returns, whichever way.
        var line: FileDescriptor?
        while line == nil {
            line = bind(SlotNames.line(settings, uid: CurrentProcess.userID))
            if line == nil, let end = pause(watch) { return end }
        }
        let since = Monotonic.nanoseconds()
        let announcement = bind(SlotNames.waiting(settings, uid: CurrentProcess.userID, since: since))
        return withExtendedLifetime(line) {
            withExtendedLifetime(announcement) {
                while true {
                    if enoughMemory(settings), !othersWaiting(settings, olderThan: since), let slot = tryAny(settings) {
                        return .acquired(slot, waitedMs: Int((Monotonic.nanoseconds() - started) / 1_000_000))
                    }
                    if let end = pause(watch) { return end }
                }
            }
        }
    }

    /// A slot if one is free now and nobody waits for one (and memory is enough); nil instead of waiting.
    public static func tryAcquire(_ settings: JobSlotSettings) -> JobSlot? {
        guard enoughMemory(settings), !othersWaiting(settings, olderThan: nil) else { return nil }
        return tryAny(settings)
    }

    /// One poll interval of waiting; the reason to stop waiting, if any.
    private static func pause(_ watch: StreamWatch?) -> Acquired? {
        guard let watch else {
            CurrentProcess.sleep(milliseconds: pollMilliseconds)
            return nil
        }
        watch.pause(milliseconds: Int32(pollMilliseconds))
        if watch.closed { return .abandoned }
        return watch.terminating ? .terminating : nil
    }

    /// True when another user's waiter has waited longer than `since`; with `since` nil, when any waiter of
    /// any user (this one's too) is waiting at all.
    static func othersWaiting(_ settings: JobSlotSettings, olderThan since: UInt64?) -> Bool {
        let mine = CurrentProcess.userID
        return SlotNames.waiters(settings, in: boundNames()).contains { waiter in
            guard let since else { return true }
            return waiter.uid != mine && waiter.since < since
        }
    }

    /// A free slot, if any, without waiting.
    static func tryAny(_ settings: JobSlotSettings) -> JobSlot? {
        // Start at a per-process place so that parallel jobs do not all try slot 0 first.
        let first = Int(CurrentProcess.id) % settings.count
        for step in 0..<settings.count {
            let index = (first + step) % settings.count
            if let name = bind(SlotNames.slot(settings, index: index)) { return JobSlot(name: name, index: index) }
        }
        return nil
    }

    /// Says beside the slot whose job holds it and what it compiles (for `sshccd --status`); gone with the slot.
    public static func announce(_ slot: JobSlot, _ settings: JobSlotSettings, file: String) {
        slot.announcement = bind(
            SlotNames.job(
                settings, index: slot.index, uid: CurrentProcess.userID, since: Monotonic.nanoseconds(), file: file))
    }

    /// A listening socket bound to the abstract `name`, or nil when another process holds the name.
    static func bind(_ name: [UInt8]) -> FileDescriptor? { UnixSocket.holdAbstractName(name) }

    /// The abstract socket names bound on this machine (network namespace), from /proc/net/unix.
    static func boundNames() -> [Substring] { boundSockets().map(\.name) }

    /// The abstract socket names bound on this machine, each with its socket's inode (`sshccd --status` finds
    /// the process that holds it).
    static func boundSockets() -> [(inode: UInt64, name: Substring)] {
        guard let bytes = try? Files.read("/proc/net/unix", limit: 64 << 20) else { return [] }
        return SlotNames.bound(inProcNetUnix: String(decoding: bytes, as: UTF8.self))
    }

    /// The machine's load as every client is told it: slots held (all accounts, and this one's), other
    /// accounts waiting, CPUs, available memory. One read of /proc/net/unix, as a waiting job does each poll.
    public static func load(_ settings: JobSlotSettings) -> ServerLoad {
        let names = boundNames()
        let slotPrefix = SlotNames.prefix(settings) + "slot/"
        let me = CurrentProcess.userID
        return ServerLoad(
            slots: settings.count, busy: names.filter { $0.hasPrefix(slotPrefix) }.count,
            mine: SlotNames.held(settings, in: names).filter { $0.uid == me }.count,
            waiting: Set(SlotNames.waiters(settings, in: names).filter { $0.uid != me }.map(\.uid)).count,
            cpus: CurrentProcess.processors, memoryMiB: (availableMemory() ?? 0) >> 20)
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
