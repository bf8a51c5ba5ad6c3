// Compile slots are shared by every account on a machine and owned by none: another account's sshccd (here
// run as `nobody`) holding the only slot makes this account's job wait, not fail, and its job runs once the
// slot is free. A directory another account made first at the slot set's old path (the first-comer attack on
// the lock-file slots, which refused every other account's jobs) changes nothing: slots are abstract socket
// names, not files.

import DistccWire
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct SharedSlotsTests {
    /// True while the slot set `name` has slot `index` held (as /proc/net/unix shows it to everyone).
    static func held(_ name: String, _ index: Int) -> Bool {
        let table = (try? String(contentsOfFile: "/proc/net/unix", encoding: .utf8)) ?? ""
        return table.contains("@sshccd-slots:\(name)/slot/\(index)")
    }

    @Test func anotherAccountsSlotIsSharedNotRefused() throws {
        let harness = try ServerHarness("sshccd-shared-slots")
        // A place `nobody` can work in: its job directories, and the old slots path it claims first.
        let open = try TemporaryDirectory("sshcc-open")
        chmod(open.path, 0o1777)
        let name = open.path + "/slots"
        try Command.check(
            "setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "install", "-d", "-m", "0700", name])
        let options = ["--jobs", "1", "--slots", name, "--source-wait", "3600"]
        let theirs = try ServerHarness.Live(harness, options: options + ["--tmpdir", open.path], asUser: "65534")
        try theirs.sendHeadOnly(try harness.request("a.c", "int a;\n", ["gcc", "-O2", "-c", "a.c"]))
        #expect(eventually { Self.held(name, 0) }, "nobody's job took the slot")

        let mine = try ServerHarness.Live(harness, options: options)
        try mine.send(try harness.request("b.c", "int b(int x) { return x + 1; }\n", ["gcc", "-O2", "-c", "b.c"]))
        #expect(!mine.replyReady(within: 1_500), "compiled while another account held the only slot")
        #expect(eventually { harness.log.contains("compile slots are busy") }, "\(harness.log)")
        theirs.disconnect()
        let reply = try mine.reply()
        #expect(reply?.exitCode == 0 && reply?.object.isEmpty == false, "\(harness.log)")
        #expect(!harness.log.contains("owned by another user"))
        mine.disconnect()
        #expect(eventually { !Self.held(name, 0) }, "the slot is free once both are done")
    }
}
