// A client cannot hold a compile slot without sending: a command line that arrives without its source gets
// a slot and gcc started ahead, but only for --source-wait seconds; then both are given up and another
// client's job (another sshccd, as another channel would be) takes the slot. The control: with a long source
// wait the silent client does keep the machine's only slot from the other job, until it disconnects.

import DistccWire
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct SlotHoldTests {
    static let source = "int work(int x) { return x * 7; }\n"

    /// A silent client on one sshccd, a working one on another, one slot between them.
    static func race(sourceWait: Int) throws -> (
        worker: ServerHarness.Live, silent: ServerHarness.Live,
        harness: ServerHarness
    ) {
        let harness = try ServerHarness("sshccd-slot-hold")
        let options = ["--jobs", "1", "--source-wait", "\(sourceWait)"]
        let silent = try ServerHarness.Live(harness, options: options)
        try silent.sendHeadOnly(try harness.request("a.c", source, ["gcc", "-O2", "-c", "a.c"]))
        // The silent job takes the slot before the worker's request arrives.
        for _ in 0..<250 where !harness.log.contains("prepared: job 1") { usleep(20_000) }
        #expect(harness.log.contains("gcc started"), "\(harness.log)")
        let worker = try ServerHarness.Live(harness, options: options)
        try worker.send(try harness.request("b.c", source, ["gcc", "-O2", "-c", "b.c"]))
        return (worker, silent, harness)
    }

    @Test func aClientThatSendsNoSourceGivesUpItsSlot() throws {
        let (worker, silent, harness) = try Self.race(sourceWait: 1)
        let reply = try worker.reply()
        #expect(reply?.exitCode == 0, "\(harness.log)")
        #expect(reply.map { !$0.object.isEmpty } == true)
        #expect(harness.log.contains("gave up the compile slot"), "\(harness.log)")
        silent.disconnect()
        worker.disconnect()
    }

    @Test func controlWithALongSourceWaitTheSilentClientHoldsTheSlot() throws {
        let (worker, silent, harness) = try Self.race(sourceWait: 3600)
        #expect(!worker.replyReady(within: 2_000), "the worker compiled while the only slot was held")
        #expect(harness.log.contains("compile slots are busy"), "\(harness.log)")
        silent.disconnect()
        #expect(try worker.reply()?.exitCode == 0)
        worker.disconnect()
    }
}
