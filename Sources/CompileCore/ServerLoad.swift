// How loaded a compile server is, as sshccd tells every client: in each protocol 6 reply (`LOAD`) and in answer
// to the load question on an idle channel. One line of `key=value` words, so that a later server can add keys
// an older client skips. Parsing treats the text as hostile: bounded numbers, nothing required but the slots.

public struct ServerLoad: Equatable, Sendable {
    /// Compile slots of the machine (all accounts share them).
    public var slots: Int
    /// Slots held now, by every account.
    public var busy: Int
    /// Of those, held by the asking account.
    public var mine: Int
    /// Other accounts with a job waiting for a slot (each account lines up one waiter at a time).
    public var waiting: Int
    /// Online CPUs.
    public var cpus: Int
    /// MemAvailable, MiB.
    public var memoryMiB: Int
    /// For the reply's own job: milliseconds its compiler ran, and waited for a slot (nil in a probe's answer).
    public var compileMilliseconds: Int?
    public var waitedMilliseconds: Int?
    /// For the reply's own job, when the server keeps an object cache: whether the reply came from it (no
    /// compile ran: its compile time says nothing of the host's speed).
    public var cacheHit: Bool?
    /// For the reply's own job: the source's bytes that arrived after its first read, and the microseconds
    /// from that read to its last (the link's upload rate; absent when the source came in one read).
    public var uploadBytes: Int?
    public var uploadMicroseconds: Int?

    public init(
        slots: Int, busy: Int, mine: Int = 0, waiting: Int = 0, cpus: Int = 0, memoryMiB: Int = 0,
        compileMilliseconds: Int? = nil, waitedMilliseconds: Int? = nil, cacheHit: Bool? = nil,
        uploadBytes: Int? = nil, uploadMicroseconds: Int? = nil
    ) {
        self.slots = slots
        self.busy = busy
        self.mine = mine
        self.waiting = waiting
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.compileMilliseconds = compileMilliseconds
        self.waitedMilliseconds = waitedMilliseconds
        self.cacheHit = cacheHit
        self.uploadBytes = uploadBytes
        self.uploadMicroseconds = uploadMicroseconds
    }

    /// Slots other accounts hold.
    public var others: Int { max(0, busy - mine) }

    public var text: String {
        var words = [
            "slots=\(slots)", "busy=\(busy)", "mine=\(mine)", "waiting=\(waiting)", "cpus=\(cpus)",
            "memory-mib=\(memoryMiB)",
        ]
        if let compileMilliseconds { words.append("compile-ms=\(compileMilliseconds)") }
        if let waitedMilliseconds { words.append("waited-ms=\(waitedMilliseconds)") }
        if let cacheHit { words.append("cache-hit=\(cacheHit ? 1 : 0)") }
        if let uploadBytes, let uploadMicroseconds {
            words += ["upload-bytes=\(uploadBytes)", "upload-us=\(uploadMicroseconds)"]
        }
        return words.joined(separator: " ")
    }

    /// Numbers above this are not believed (a day in ms; far more slots than any machine has).
    static let largest = 100_000_000

    /// The load in `text`; nil when it has no valid slot count. Unknown keys are skipped; a bad value of a
    /// known key makes the whole text invalid (a server that says nonsense is not half-believed).
    public init?(text: some Sequence<UInt8>) {
        let bytes = Array(text.prefix(4096))
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        var values: [String: Int] = [:]
        for word in String(decoding: bytes, as: UTF8.self).split(separator: " ") {
            let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            let key = String(parts[0])
            guard Self.keys.contains(key) else { continue }
            guard parts[1].count <= 9, let value = Int(parts[1]), value >= 0, value <= Self.largest,
                values[key] == nil
            else { return nil }
            values[key] = value
        }
        guard let slots = values["slots"], slots >= 1 else { return nil }
        self.init(
            slots: slots, busy: values["busy"] ?? 0, mine: values["mine"] ?? 0, waiting: values["waiting"] ?? 0,
            cpus: values["cpus"] ?? 0, memoryMiB: values["memory-mib"] ?? 0,
            compileMilliseconds: values["compile-ms"], waitedMilliseconds: values["waited-ms"],
            cacheHit: values["cache-hit"].map { $0 == 1 },
            uploadBytes: values["upload-bytes"], uploadMicroseconds: values["upload-us"])
        guard mine <= busy, (values["cache-hit"] ?? 0) <= 1 else { return nil }
    }

    static let keys: Set<String> = [
        "slots", "busy", "mine", "waiting", "cpus", "memory-mib", "compile-ms", "waited-ms", "cache-hit",
        "upload-bytes", "upload-us",
    ]
}
