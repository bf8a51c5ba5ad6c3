// The object cache's keys, entries and store on real files: a key names exactly its inputs (not the job's
// private directory), an entry is served only whole, unchanged and under its own key, another account's entry
// only when the administrator trusts that account and the account owns it, the part stays under its size, and
// a compile in flight makes the same job wait for its answer.

import Foundation
import ObjectCache
import POSIXSupport
import Testing

@Suite struct ObjectCacheTests {
    static let source = Array("int f(void) { return 1; }\n".utf8)
    static let steps = [["gcc", "-S", "-o", "/tmp/sshccd-1-abc/a.s", "/tmp/sshccd-1-abc/a.i"]]

    func key(
        toolchain: String = "t1", steps: [[String]] = Self.steps, directory: String = "/tmp/sshccd-1-abc",
        source: [UInt8] = Self.source, rules: String = "0.1.0"
    ) -> CacheKey {
        CacheKey.of(toolchain: toolchain, steps: steps, jobDirectory: directory, source: source, rules: rules)
    }

    @Test func aKeyNamesItsInputsButNotTheJobsDirectory() {
        let base = key()
        let elsewhere = key(
            steps: [["gcc", "-S", "-o", "/tmp/sshccd-2-xyz/a.s", "/tmp/sshccd-2-xyz/a.i"]],
            directory: "/tmp/sshccd-2-xyz")
        #expect(base == elsewhere)
        #expect(base != key(toolchain: "t2"))
        #expect(base != key(rules: "0.1.1"), "another sshccd's checks")
        #expect(base != key(source: Self.source + [0x20]))
        #expect(base != key(steps: [["gcc", "-O2", "-S", "-o", "/tmp/sshccd-1-abc/a.s", "/tmp/sshccd-1-abc/a.i"]]))
        // Lengths are part of the hash: arguments cannot be regrouped into the same key.
        #expect(key(steps: [["gcc", "ab", "c"]]) != key(steps: [["gcc", "a", "bc"]]))
        #expect(key(steps: [["gcc"], ["as"]]) != key(steps: [["gcc", "as"]]))
        #expect(base.description.count == 64)
    }

    static let reply = CachedReply(
        status: 0, stdout: [], stderr: Array("a.c:1: warning: x\n".utf8), object: Array(repeating: 0x7f, count: 300))

    @Test func anEntryIsReadOnlyWholeUnchangedAndUnderItsOwnKey() throws {
        let k = key()
        let bytes = CacheEntry.encode(Self.reply, key: k)
        #expect(try CacheEntry.decode(bytes, key: k) == Self.reply)
        #expect(throws: CacheEntry.Damage.otherKey) { try CacheEntry.decode(bytes, key: key(toolchain: "t2")) }
        #expect(throws: CacheEntry.Damage.truncated) { try CacheEntry.decode(Array(bytes.dropLast(1)), key: k) }
        #expect(throws: CacheEntry.Damage.notAnEntry) { try CacheEntry.decode(Array(bytes.dropFirst(1)), key: k) }
        // Every single changed byte is caught, wherever it is.
        for index in stride(from: 0, to: bytes.count, by: 7) {
            var changed = bytes
            changed[index] ^= 0x01
            #expect(throws: CacheEntry.Damage.self) { try CacheEntry.decode(changed, key: k) }
        }
    }

    final class Damaged: @unchecked Sendable {
        var seen: [String] = []
    }

    func store(
        _ root: String, share: ObjectCacheSettings.Share = .own, maximumBytes: Int = 1 << 30,
        damaged: Damaged = Damaged()
    )
        throws -> ObjectStore
    {
        try ObjectStore.open(
            ObjectCacheSettings(root: root, share: share, maximumBytes: maximumBytes), entryLimit: 1 << 20,
            damaged: { path, _ in damaged.seen.append(path) }
        ).get()
    }

    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "sshcc-objects-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test func aStoredAnswerIsFoundAndATamperedOneIsNeverServed() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let damaged = Damaged()
        let cache = try store(root, damaged: damaged)
        let k = key()
        #expect(cache.lookup(k) == nil)
        try cache.store(k, Self.reply)
        #expect(cache.lookup(k)?.reply == Self.reply)
        let file = "\(root)/\(getuid())/\(k.description.prefix(2))/\(k.description)"
        // One byte of the object changed on disk: detected, not served, dropped.
        var bytes = try #require(FileManager.default.contents(atPath: file))
        bytes[bytes.count - 40] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: file))
        #expect(cache.lookup(k) == nil)
        #expect(damaged.seen == [file])
        #expect(!FileManager.default.fileExists(atPath: file))
        // Another key's sound entry put under this key's name: not this key's answer.
        let other = key(toolchain: "t2")
        try cache.store(other, CachedReply(status: 0, stdout: [], stderr: [], object: [1, 2, 3]))
        let otherFile = "\(root)/\(getuid())/\(other.description.prefix(2))/\(other.description)"
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: otherFile, toPath: file)
        chmod(file, 0o644)
        #expect(cache.lookup(k) == nil)
    }

    @Test(.enabled(if: getuid() == 0, "another account's files need root to make"))
    func anotherAccountsEntryIsTakenOnlyWhenTrustedAndItsOwn() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let other: UInt32 = 65534  // nobody
        let k = key()
        // The other account's part, made as that account would make it.
        let part = "\(root)/\(other)", directory = "\(part)/\(k.description.prefix(2))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = "\(directory)/\(k.description)"
        try Data(CacheEntry.encode(Self.reply, key: k)).write(to: URL(fileURLWithPath: file))
        for path in [part, directory, file] { chown(path, other, other) }
        chmod(file, 0o644)
        #expect(try store(root, share: .own).lookup(k) == nil, "not trusted")
        #expect(try store(root, share: .all).lookup(k)?.owner == other)
        #expect(try store(root, share: .accounts(["nobody"])).lookup(k)?.owner == other)
        #expect(try store(root, share: .accounts(["daemon"])).lookup(k) == nil, "another account trusted")
        // Writable by others, or not the account's own file: not taken.
        chmod(file, 0o666)
        #expect(try store(root, share: .all).lookup(k) == nil)
        chmod(file, 0o644)
        chown(file, 1, 1)
        #expect(try store(root, share: .all).lookup(k) == nil)
    }

    @Test func thePartStaysUnderItsSizeDroppingTheOldestFirst() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // 256 directories share the size: 256 KiB gives each 1 KiB; entries of ~400 bytes, all in one directory.
        let cache = try store(root, maximumBytes: 256 << 10)
        var keys: [CacheKey] = []
        var candidate = 0
        while keys.count < 6 {
            let k = key(source: Array("\(candidate)".utf8))
            candidate += 1
            if k.description.hasPrefix("00") { keys.append(k) }
        }
        for (index, k) in keys.enumerated() {
            try cache.store(k, Self.reply)
            // Older modification times for the earlier ones (a second's resolution is not needed).
            let path = "\(root)/\(getuid())/\(k.description.prefix(2))/\(k.description)"
            var times = [
                timespec(tv_sec: 1_000_000 + index, tv_nsec: 0), timespec(tv_sec: 1_000_000 + index, tv_nsec: 0),
            ]
            utimensat(AT_FDCWD, path, &times, 0)
        }
        let kept = keys.filter { cache.lookup($0) != nil }
        #expect(kept.count < keys.count)
        #expect(kept.last == keys.last, "the newest stays")
        #expect(cache.lookup(keys[0]) == nil, "the oldest goes first")
    }

    @Test func aJobInFlightMakesTheSameJobWaitForItsAnswer() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try store(root), second = try store(root)
        let k = key()
        guard case .compile(let inFlight) = first.claim(k, keepWaiting: { true }) else {
            Issue.record("the first claim should compile")
            return
        }
        // While it compiles, the second waits (and gives up here when told to).
        var waits = 0
        guard
            case .gaveUp = second.claim(
                k,
                keepWaiting: {
                    waits += 1; return waits < 3
                })
        else {
            Issue.record("the second claim should wait")
            return
        }
        #expect(waits == 3)
        try first.store(k, Self.reply)
        withExtendedLifetime(inFlight) {}
        _ = consume inFlight
        guard case .hit(let hit) = second.claim(k, keepWaiting: { false }) else {
            Issue.record("the answer should be found")
            return
        }
        #expect(hit.reply == Self.reply)
    }
}
