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

    /// `job/K/UID/SINCE/FILE`: bound by the holder of slot K beside the slot itself, so that `sshccd --status`
    /// can say whose job it is and what it compiles. The file is percent-encoded (one token of
    /// /proc/net/unix) and cut to fit the 107 bytes of an abstract name.
    static func job(_ settings: JobSlotSettings, index: Int, uid: UInt32, since: UInt64, file: String) -> [UInt8] {
        let head = Array((prefix(settings) + "job/\(index)/\(uid)/\(since)/").utf8)
        var name = head
        for byte in file.utf8 {
            let plain =
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                || "._+-/".utf8.contains(byte)
            let piece: [UInt8] =
                plain ? [byte] : Array(("%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)).utf8)
            guard name.count + piece.count <= maximumLength else { break }
            name += piece
        }
        return name
    }

    /// The bytes an abstract socket name may have (sun_path less its leading NUL).
    static let maximumLength = 107

    struct Held: Equatable {
        var index: Int
        var uid: UInt32
        var since: UInt64
        var file: String
    }

    /// The jobs announced by slot holders among the bound `names`.
    static func held(_ settings: JobSlotSettings, in names: [Substring]) -> [Held] {
        let start = prefix(settings) + "job/"
        return names.compactMap { name in
            guard name.hasPrefix(start) else { return nil }
            let parts = name.dropFirst(start.count).split(
                separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, let index = Int(parts[0]), let uid = UInt32(parts[1]), let since = UInt64(parts[2])
            else { return nil }
            return Held(index: index, uid: uid, since: since, file: percentDecoded(parts[3]))
        }
    }

    static func percentDecoded(_ text: Substring) -> String {
        var out: [UInt8] = []
        var bytes = text.utf8[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%"), bytes.count >= 2,
                let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            {
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The abstract names in /proc/net/unix and the inode of each socket (to find the process that holds it).
    static func bound(inProcNetUnix text: String) -> [(inode: UInt64, name: Substring)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 8, fields[7].hasPrefix("@"), let inode = UInt64(fields[6]) else { return nil }
            return (inode, fields[7].dropFirst())
        }
    }
}
