// The abstract socket names of a slot set (JobSlots), and reading the waiters back from the names bound on
// the machine. Pure: names in, names out.

import CompileCore

enum SlotNames {
    /// `sshccd-slots:SET/` — a set name of plain characters is used as it is (a path is fine), any other is
    /// replaced by its hash, so that a name stays one token of /proc/net/unix and within sun_path.
    static func prefix(_ settings: JobSlotSettings) -> String {
        let plain =
            settings.name.utf8.count <= 64
            && settings.name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "@") }
        return "sshccd-slots:" + (plain ? settings.name : "#" + TextHash.fnv1a(settings.name)) + "/"
    }

    static func slot(_ settings: JobSlotSettings, index: Int) -> [UInt8] {
        Array((prefix(settings) + "slot/\(index)").utf8)
    }

    static func line(_ settings: JobSlotSettings, uid: UInt32) -> [UInt8] {
        Array((prefix(settings) + "line/\(uid)").utf8)
    }

    static func waiting(_ settings: JobSlotSettings, uid: UInt32, since: UInt64) -> [UInt8] {
        Array((prefix(settings) + "waiting/\(uid)/\(since)").utf8)
    }

    struct Waiter: Equatable {
        var uid: UInt32
        var since: UInt64
    }

    /// The waiters of this set among the bound `names` (as /proc/net/unix shows them, without the `@`).
    static func waiters(_ settings: JobSlotSettings, in names: [Substring]) -> [Waiter] {
        let start = prefix(settings) + "waiting/"
        return names.compactMap { name in
            guard name.hasPrefix(start) else { return nil }
            let parts = name.dropFirst(start.count).split(separator: "/")
            guard parts.count == 2, let uid = UInt32(parts[0]), let since = UInt64(parts[1]) else { return nil }
            return Waiter(uid: uid, since: since)
        }
    }
}
