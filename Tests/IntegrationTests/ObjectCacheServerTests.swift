// sshccd's object cache through real servers: a build repeated through the farm is answered from the cache
// (every object byte-identical to a local compile, the build told "cache hit", `--status` counting the hits);
// an entry changed on disk is detected and never served; another account's answers are taken only where the
// administrator shares them.

import DistccWire
import Foundation
import ObjectCache
import TestSupport
import Testing

@Suite struct ObjectCacheServerTests {
    /// The entries the server's sshccd kept (its cache is in the server's directory).
    static func entries(_ server: SSHDServer) -> [String] {
        let root = server.directory.path + "/sshccd-cache/objects"
        let found = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return found.filter { $0.split(separator: "/").count == 3 && !$0.hasSuffix(".lock") }.map { root + "/" + $0 }
    }

    @Test func aRepeatedBuildIsAnsweredFromTheServersCache() throws {
        let server = try SSHDServer(objectCache: true)
        let project = try MuxDaemonTests.buildProject(6)
        let environment = server.clientEnvironment(["SSHCC_VERBOSE": "1", "SSHCC_FALLBACK": "0"])
        let first = try MuxDaemonTests.build(project, parallel: 3, environment: environment)
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(MuxDaemonTests.mismatches(project, count: 6).isEmpty)
        #expect(!first.stderrText.contains("cache hit"), "\(first.stderrText)")
        #expect(Self.entries(server).count == 6, "one entry per compile")
        try FileManager.default.removeItem(atPath: project.path + "/remote")
        let second = try MuxDaemonTests.build(project, parallel: 3, environment: environment)
        #expect(second.status == 0, "\(second.stderrText)")
        #expect(MuxDaemonTests.mismatches(project, count: 6).isEmpty, "objects from the cache are the local ones")
        let hits = second.stderrText.split(separator: "\n").filter { $0.contains("cache hit on") }
        #expect(hits.count == 6, "\(second.stderrText)")
        #expect(server.sshccdLogText.components(separatedBy: "cache-hit").count - 1 == 6)
        var statusEnvironment = environment
        statusEnvironment["SSHCC_DIR"] = project.muxDirectory
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: statusEnvironment).stdoutText
        #expect(status.contains("jobs 12 done (6 from its object cache, 50%)"), "\(status)")
        // The administrator's view: the hit rate over the log's latest jobs.
        let serverStatus = try Command.run(
            Products.sshccd,
            [
                "--config", "none", "--log", server.sshccdLog, "--slots-dir", server.directory.path + "/slots",
                "--status",
            ]
        ).stdoutText
        #expect(
            serverStatus.contains("object cache: 6 of the logs' latest 12 answered jobs came from it (50%)"),
            "\(serverStatus)")
        attachLogsOnFailure(server, hits.count == 6)
    }

    /// Asking first (SSHCC_ASK=always): a cold build's questions all get `NEED` and the sources follow; the
    /// repeated build's are answered from the cache with no source sent. Objects are the local ones throughout.
    @Test func aClientThatAsksFirstSendsNoSourceForAKeptResult() throws {
        let server = try SSHDServer(objectCache: true)
        let project = try MuxDaemonTests.buildProject(6)
        let environment = server.clientEnvironment([
            "SSHCC_VERBOSE": "1", "SSHCC_FALLBACK": "0", "SSHCC_ASK": "always",
        ])
        #expect(try MuxDaemonTests.build(project, parallel: 3, environment: environment).status == 0)
        #expect(MuxDaemonTests.mismatches(project, count: 6).isEmpty)
        #expect(server.sshccdLogText.components(separatedBy: "its source is asked for").count - 1 == 6)
        try FileManager.default.removeItem(atPath: project.path + "/remote")
        let second = try MuxDaemonTests.build(project, parallel: 3, environment: environment)
        #expect(second.status == 0, "\(second.stderrText)")
        #expect(MuxDaemonTests.mismatches(project, count: 6).isEmpty, "objects from the cache are the local ones")
        #expect(second.stderrText.split(separator: "\n").filter { $0.contains("cache hit on") }.count == 6)
        let log = server.sshccdLogText
        #expect(log.components(separatedBy: "asked-first cache-hit").count - 1 == 6, "\(log)")
        #expect(log.components(separatedBy: "its source is asked for").count - 1 == 6, "no more NEED")
        var statusEnvironment = environment
        statusEnvironment["SSHCC_DIR"] = project.muxDirectory
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: statusEnvironment).stdoutText
        #expect(
            status.contains("12 asked for their result before sending the source, 6 of them then sent it"), "\(status)")
        attachLogsOnFailure(server, status.contains("12 asked"))
    }

    @Test func anEntryChangedOnDiskIsNeverServed() throws {
        let server = try SSHDServer(objectCache: true)
        let project = try MuxDaemonTests.buildProject(3)
        let environment = server.clientEnvironment(["SSHCC_VERBOSE": "1", "SSHCC_FALLBACK": "0"])
        #expect(try MuxDaemonTests.build(project, parallel: 3, environment: environment).status == 0)
        // One byte of each object, inside the entry, changed in place.
        let entries = Self.entries(server)
        #expect(entries.count == 3)
        for entry in entries {
            var bytes = try #require(FileManager.default.contents(atPath: entry))
            bytes[bytes.count - 100] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: entry))
        }
        try FileManager.default.removeItem(atPath: project.path + "/remote")
        let again = try MuxDaemonTests.build(project, parallel: 3, environment: environment)
        #expect(again.status == 0)
        #expect(!again.stderrText.contains("cache hit"), "\(again.stderrText)")
        #expect(MuxDaemonTests.mismatches(project, count: 3).isEmpty, "compiled again, not the changed bytes")
        #expect(server.sshccdLogText.components(separatedBy: "is damaged (its checksum does not match").count - 1 == 3)
        attachLogsOnFailure(server, !again.stderrText.contains("cache hit"))
    }

    static let source = "int twice(int x) { return 2 * x; }\n"

    /// The same job on two channels at once: one compile; the second waits for its answer and takes it.
    @Test func theSameJobInFlightTwiceIsCompiledOnce() throws {
        let harness = try ServerHarness("sshccd-objects-inflight", objects: nil)
        let root = harness.directory.path + "/objects"
        // The compile takes 3 s more (the questions that identify the compiler do not): long enough for the
        // second channel to find it in flight.
        try harness.instrument(
            "gcc",
            """
            case " $* " in *" -###"* | *" -dump"* | *" --version"* | *" -print"*) ;; *) [ $role = compile ] && sleep 3 ;; esac
            exec /usr/bin/gcc "$@"
            """)
        let request = try harness.request("same.c", Self.source, ["gcc", "-O2", "-c", "same.c"])
        let channels = try (0..<2).map { _ in try ServerHarness.Live(harness, options: ["--objects", root]) }
        for channel in channels { try channel.send(request) }
        let replies = try channels.map { try $0.reply() }
        #expect(replies.allSatisfy { $0?.exitCode == 0 })
        #expect(replies[0]?.object == replies[1]?.object && replies[0]?.object.isEmpty == false)
        let answered = harness.log.split(separator: "\n").filter { $0.contains("same.i source=") }
        #expect(answered.count == 2 && answered.filter { !$0.contains("cache-hit") }.count == 1, "\(harness.log)")
        #expect(
            harness.log.contains("the same job is being compiled elsewhere; waiting for its answer"), "\(harness.log)")
        #expect(harness.log.components(separatedBy: "cache-hit").count - 1 == 1, "\(harness.log)")
    }

    /// Protocol 7: a question by the source's digest gets `NEED` while the cache lacks the result, and the
    /// kept reply, with no source sent, once it holds it. A client that asks by one digest and then sends
    /// another source gets that source compiled, and cannot make the digest name its object.
    @Test func aQuestionByDigestGetsTheKeptReplyOrAsksForTheSource() throws {
        let harness = try ServerHarness("sshccd-objects-ask", objects: nil)
        let arguments = ["gcc", "-O2", "-c", "asked.c"]
        var honest = try harness.request("asked.c", Self.source, arguments)
        var other = try harness.request("asked.c", "int other(int x) { return x - 7; }\n", arguments)
        honest.version = DistccVersion.asksFirst
        other.version = DistccVersion.asksFirst
        let question = Request(
            version: DistccVersion.asksFirst, arguments: arguments, source: [],
            sourceDigest: CacheKey.sourceDigest(honest.source))
        let live = try ServerHarness.Live(harness, options: ["--objects", harness.directory.path + "/objects"])
        func source(of request: Request) -> [UInt8] {
            WireEncoder.sourceFrame(request.source, version: request.version)
        }

        // Asked for the honest source's result, then sent another source.
        try live.send(question)
        #expect(try live.answer() == .some(nil), "NEED: nothing is kept yet")
        try live.send(bytes: source(of: other))
        let lied = try #require(try live.reply())
        // The honest source: still not kept (the other source's object was kept under its own key).
        try live.send(question)
        #expect(try live.answer() == .some(nil), "NEED again: the digest does not name the other object")
        try live.send(bytes: source(of: honest))
        let compiled = try #require(try live.reply())
        // Asked once more: the kept reply, no source sent.
        try live.send(question)
        let kept = try #require(try live.answer() ?? nil, "a reply, not NEED")
        #expect(lied.exitCode == 0 && compiled.exitCode == 0 && !compiled.object.isEmpty)
        #expect(lied.object != compiled.object)
        #expect(kept.exitCode == 0 && kept.object == compiled.object)
        #expect(String(decoding: kept.load, as: UTF8.self).contains("cache-hit=1"))
        // The other source asked for by its own digest is a hit too: it was compiled and kept.
        try live.send(
            Request(
                version: DistccVersion.asksFirst, arguments: arguments, source: [],
                sourceDigest: CacheKey.sourceDigest(other.source)))
        #expect(try live.answer()??.object == lied.object)
        #expect(harness.log.components(separatedBy: "its source is asked for").count - 1 == 2, "\(harness.log)")
        #expect(harness.log.components(separatedBy: "asked-first cache-hit").count - 1 == 2, "\(harness.log)")
    }

    /// A client that asks, is told `NEED` and then sends nothing holds the job's claim only for --source-wait:
    /// the same job on another channel waits that long at most, then compiles.
    @Test func aQuestionLeftWithoutItsSourceLetsTheSameJobGoAfterTheSourceWait() throws {
        let harness = try ServerHarness("sshccd-objects-ask-silent")
        let root = harness.directory.path + "/objects"
        let arguments = ["gcc", "-O2", "-c", "silent.c"]
        let request = try harness.request("silent.c", Self.source, arguments)
        let options = ["--objects", root, "--source-wait", "1"]
        let silent = try ServerHarness.Live(harness, options: options)
        try silent.send(
            Request(
                version: DistccVersion.asksFirst, arguments: arguments, source: [],
                sourceDigest: CacheKey.sourceDigest(request.source)))
        #expect(try silent.answer() == .some(nil), "NEED")
        let other = try ServerHarness.Live(harness, options: options)
        try other.send(request)
        let reply = try #require(try other.reply())
        #expect(reply.exitCode == 0 && !reply.object.isEmpty)
        let log = harness.log
        #expect(log.contains("waiting for its answer"), "the claim held it back first\n\(log)")
        #expect(log.contains("the source did not come within 1 s"), "\(log)")
        silent.disconnect()
        _ = silent.wait()
    }

    /// A cache root both root and a second account (nobody) may make parts in, and the second account's own
    /// temporary directory and log.
    static func sharedRoot(_ harness: ServerHarness) throws -> (root: String, scratch: String, log: String) {
        chmod(harness.directory.path, 0o755)
        let root = harness.directory.path + "/objects"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        chmod(root, 0o1777)
        let scratch = harness.directory.path + "/nobody-tmp", log = harness.directory.path + "/nobody.log"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        chown(scratch, 65534, 65534)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        chown(log, 65534, 65534)
        return (root, scratch, log)
    }

    @Test(.enabled(if: getuid() == 0, "a second account needs root to start"))
    func anotherAccountsAnswersAreTakenOnlyWhereShared() throws {
        let harness = try ServerHarness("sshccd-objects-share")
        let (root, scratch, log) = try Self.sharedRoot(harness)
        let first = try harness.request("first.c", Self.source, ["gcc", "-O2", "-c", "first.c"])
        let second = try harness.request("second.c", Self.source, ["gcc", "-O2", "-c", "second.c"])
        let (_, replies) = try harness.serve([first, second], options: ["--objects", root])
        #expect(replies.count == 2 && replies.allSatisfy { $0.exitCode == 0 })

        func asNobody(_ request: Request, share: String) throws -> Reply? {
            let live = try ServerHarness.Live(
                harness, options: ["--objects", root, "--objects-share", share, "--tmpdir", scratch, "--log", log],
                asUser: "65534")
            try live.send(request)
            defer {
                live.disconnect()
                _ = live.wait()
            }
            return try live.reply()
        }
        func nobodyLog() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        // Its own answers only (the default): root's entry is not taken.
        let own = try asNobody(first, share: "own")
        #expect(
            own?.exitCode == 0 && own?.object == replies[0].object,
            "\(String(decoding: own?.stderr ?? [], as: UTF8.self))")
        #expect(!nobodyLog().contains("cache-hit"), "\(nobodyLog())")
        // Trusting root's part (by name): root's answer, byte for byte.
        let shared = try asNobody(second, share: "root")
        #expect(shared?.object == replies[1].object && shared?.stderr == replies[1].stderr)
        #expect(nobodyLog().contains("cache-hit from=root"), "\(nobodyLog())")
    }

    /// Two accounts, one trusting the other, with the same job at the same moment: the trusting one waits for
    /// the other's compile and takes its answer; one compile in all.
    @Test(.enabled(if: getuid() == 0, "a second account needs root to start"))
    func aTrustedAccountsJobInFlightIsWaitedFor() throws {
        let harness = try ServerHarness("sshccd-objects-inflight-accounts")
        let (root, scratch, log) = try Self.sharedRoot(harness)
        // The instrument records every run, the second account's too.
        _ = FileManager.default.createFile(atPath: harness.runs, contents: nil)
        chmod(harness.runs, 0o666)
        // Compiling takes 3 s more (identifying the compiler does not): the second account comes meanwhile.
        try harness.instrument(
            "gcc",
            """
            case " $* " in *" -###"* | *" -dump"* | *" --version"* | *" -print"*) ;; *) [ $role = compile ] && sleep 3 ;; esac
            exec /usr/bin/gcc "$@"
            """)
        let request = try harness.request("same.c", Self.source, ["gcc", "-O2", "-c", "same.c"])
        let first = try ServerHarness.Live(harness, options: ["--objects", root])
        try first.send(request)
        // Root's compile holds the key's lock (ROOT/0/KK/KEY.lock) while it runs.
        func locked() -> Bool {
            let found = FileManager.default.enumerator(atPath: root + "/0")?.compactMap { $0 as? String } ?? []
            return found.contains { $0.hasSuffix(".lock") }
        }
        while !locked() && !harness.log.contains("job 1") { usleep(20_000) }
        let second = try ServerHarness.Live(
            harness, options: ["--objects", root, "--objects-share", "root", "--tmpdir", scratch, "--log", log],
            asUser: "65534")
        try second.send(request)
        let replies = try [first.reply(), second.reply()]
        let nobodyLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(replies[0]?.exitCode == 0 && replies[0]?.object.isEmpty == false)
        #expect(replies[1]?.object == replies[0]?.object && replies[1]?.stderr == replies[0]?.stderr)
        #expect(
            nobodyLog.contains("the same job is being compiled elsewhere; waiting for its answer"),
            "\(nobodyLog)\n\(harness.log)")
        #expect(nobodyLog.contains("cache-hit from=root"), "\(nobodyLog)")
        let compiled = harness.log.split(separator: "\n").filter { $0.contains("same.i source=") }
        #expect(compiled.count == 1 && !compiled[0].contains("cache-hit"), "one compile\n\(harness.log)")
    }
}
