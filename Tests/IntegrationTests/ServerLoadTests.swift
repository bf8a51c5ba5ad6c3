// sshccd tells its load: in every protocol 6 reply (LOAD, after the job's slot went back) and in answer to the
// load question in any version; an older client's version gets no LOAD frame.

import CompileCore
import DistccWire
import Foundation
import POSIXSupport
import TestSupport
import Testing

struct ServerLoadTests {
    let arguments = ["gcc", "-c", "x.c", "-o", "x.o"]

    @Test func aVersionSixReplyEndsWithTheLoadAndTheJobsTimes() throws {
        let harness = try ServerHarness("sshcc-load")
        let source = Array("int x(void) { return 1; }\n".utf8)
        let (result, replies) = try harness.serve(
            [
                Request(version: DistccVersion.loadReported, arguments: arguments, source: source),
                Request(version: DistccVersion.zstdStreamed, arguments: arguments, source: source),
            ], options: ["--jobs", "3"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(replies.count == 2 && replies.allSatisfy { $0.status == 0 && !$0.object.isEmpty })
        let load = try #require(
            ServerLoad(text: replies[0].load), "\(String(decoding: replies[0].load, as: UTF8.self))")
        // Its own slot is free again when the load is taken.
        #expect(load.slots == 3 && load.busy == 0 && load.mine == 0 && load.waiting == 0)
        #expect(load.cpus >= 1 && load.compileMilliseconds != nil && load.waitedMilliseconds == 0)
        #expect(replies[1].load.isEmpty, "version 5 has no LOAD frame")
    }

    /// The reply says how the source came: the bytes after its first read and the time to its last, so that a
    /// client can learn its link's upload rate. A source that came in one read says nothing.
    @Test func theReplyTellsHowFastTheSourceArrived() throws {
        let harness = try ServerHarness("sshcc-load-upload")
        let text = (0..<3000).map { "int f\($0)(int x) { return x * \($0) + \($0 % 7); }\n" }.joined()
        let request = try harness.request("up.c", text, ["gcc", "-c", "up.c"])
        let bytes = WireEncoder.encode(
            Request(version: DistccVersion.asksFirst, arguments: request.arguments, source: request.source))
        let head = WireEncoder.requestFields(
            Request(version: DistccVersion.asksFirst, arguments: request.arguments, source: []))
        let source = Array(bytes[head.count...])
        #expect(source.count > 3_000, "\(source.count) bytes compressed")
        let live = try ServerHarness.Live(harness)
        // The command line, then the source in three parts 150 ms apart.
        try live.send(bytes: head)
        usleep(100_000)
        let third = source.count / 3
        try live.send(bytes: Array(source[..<third]))
        usleep(150_000)
        try live.send(bytes: Array(source[third..<2 * third]))
        usleep(150_000)
        try live.send(bytes: Array(source[(2 * third)...]))
        let reply = try #require(try live.reply())
        let load = try #require(ServerLoad(text: reply.load), "\(String(decoding: reply.load, as: UTF8.self))")
        #expect(load.uploadBytes == source.count - third, "\(load.text)")
        #expect((300_000..<3_000_000).contains(load.uploadMicroseconds ?? 0), "\(load.text)")
        // All at once (one write, one read): no figure.
        let (_, replies) = try harness.serve([
            Request(version: DistccVersion.asksFirst, arguments: request.arguments, source: request.source)
        ])
        #expect(ServerLoad(text: replies.first?.load ?? [])?.uploadBytes == nil)
    }

    @Test func theLoadQuestionIsAnsweredInAnyVersionAndCountsHeldSlots() throws {
        let harness = try ServerHarness("sshcc-load-question")
        // Slot 0 is held by a job of this account, and another account waits: as sshccd processes would bind
        // the names (abstract sockets, seen by every sshccd of the machine).
        let set = "load-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"  // short: used as it is
        let prefix = "sshccd-slots:" + set + "/"
        let uid = getuid()
        let slot = UnixSocket.holdAbstractName(Array((prefix + "slot/0").utf8))
        let job = UnixSocket.holdAbstractName(Array((prefix + "job/0/\(uid)/1/x.c").utf8))
        let waiter = UnixSocket.holdAbstractName(Array((prefix + "waiting/\(uid + 1)/5").utf8))
        #expect(slot != nil && job != nil && waiter != nil)
        for version in [DistccVersion.plain, .zstd, .loadReported] {
            let (result, replies) = try harness.serve(
                [Request(version: version, arguments: ServerQuery.load, source: [])],
                options: ["--jobs", "2", "--slots", set])
            #expect(result.status == 0, "\(result.stderrText)")
            let answer = try #require(replies.first)
            #expect(answer.status == 0)
            let load = try #require(
                ServerLoad(text: answer.stdout), "\(String(decoding: answer.stdout, as: UTF8.self))")
            #expect(load.slots == 2 && load.compileMilliseconds == nil)
            #expect(load.busy == 1 && load.mine == 1 && load.waiting == 1, "\(load.text)")
        }
        slot?.close()
        job?.close()
        waiter?.close()
        // No job was counted: the question is not a job.
        #expect(!((try? String(contentsOfFile: harness.logPath, encoding: .utf8)) ?? "").contains("job 1:"))
    }
}
