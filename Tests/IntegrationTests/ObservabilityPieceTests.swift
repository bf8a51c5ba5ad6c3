// The pure pieces behind the status views: the slot holders' announced names, /proc/net/unix read back,
// the client named from sshd's environment (fingerprints and certificates as OpenSSH prints them), JSON text,
// the recent-failure list, the source a command line names.

import CompileCore
import Foundation
import TestSupport
import Testing

@testable import SSHCCMux
@testable import SSHCCServer

@Suite struct ObservabilityPieceTests {
    let settings = JobSlotSettings(count: 4, name: "farm")

    @Test func aSlotHoldersAnnouncementReadsBackWithItsFile() {
        let file = "src/a dir/ü%x.c"
        let name = SlotNames.job(settings, index: 3, uid: 1001, since: 123_456_789, file: file)
        #expect(!name.contains(UInt8(ascii: " ")), "one token of /proc/net/unix")
        let held = SlotNames.held(settings, in: [Substring(String(decoding: name, as: UTF8.self))])
        #expect(held == [SlotNames.Held(index: 3, uid: 1001, since: 123_456_789, file: file)])
        // Another set's names, and malformed ones, are not this set's holders.
        #expect(
            SlotNames.held(settings, in: ["sshccd-slots:other/job/1/2/3/x.c", "sshccd-slots:farm/job/x/2/3/x.c"]) == [])
    }

    @Test func aLongFileNameIsCutToFitAnAbstractName() {
        let long = String(repeating: "é", count: 200) + ".c"
        let name = SlotNames.job(settings, index: 0, uid: 0, since: 1, file: long)
        #expect(name.count <= SlotNames.maximumLength)
        let held = SlotNames.held(settings, in: [Substring(String(decoding: name, as: UTF8.self))])
        #expect(held.first.map { long.hasPrefix($0.file) && !$0.file.isEmpty } == true, "\(held)")
    }

    @Test func procNetUnixGivesNamesWithTheirInodes() {
        let text = """
            Num       RefCount Protocol Flags    Type St Inode Path
            0000000000000000: 00000002 00000000 00010000 0001 01 40123 @sshccd-slots:farm/slot/2
            0000000000000000: 00000003 00000000 00000000 0001 03 40124 /run/systemd/notify
            0000000000000000: 00000002 00000000 00010000 0001 01 40125 @sshccd-slots:farm/job/2/0/9/x.c
            """
        let bound = SlotNames.bound(inProcNetUnix: text)
        #expect(bound.map(\.inode) == [40123, 40125])
        #expect(bound.map { String($0.name) } == ["sshccd-slots:farm/slot/2", "sshccd-slots:farm/job/2/0/9/x.c"])
    }

    @Test func theClientIsNamedAsSshdNamesIt() throws {
        #expect(ClientIdentity.address(fromSSHConnection: "10.0.0.5 51234 10.0.0.1 22") == "10.0.0.5 port 51234")
        #expect(ClientIdentity.address(fromSSHConnection: "garbage") == nil)
        let keys = try TemporaryDirectory("sshcc-identity")
        try Command.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "dev", "-f", keys.path + "/user"])
        try Command.check("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-C", "ca", "-f", keys.path + "/ca"])
        try Command.check(
            "ssh-keygen",
            ["-q", "-s", keys.path + "/ca", "-I", "alice@laptop", "-n", "alice", "-z", "7", keys.path + "/user.pub"])
        func fingerprint(_ file: String) throws -> String {
            String(
                try Command.check("ssh-keygen", ["-lf", keys.path + "/" + file]).stdoutText.split(separator: " ")[1])
        }
        func authInfo(_ file: String) throws -> String {
            let fields = try String(contentsOfFile: keys.path + "/" + file, encoding: .utf8).split(separator: " ")
            return "publickey \(fields[0]) \(fields[1])\n"
        }
        #expect(ClientIdentity.key(fromAuthInfo: try authInfo("user.pub")) == "ED25519 \(try fingerprint("user.pub"))")
        #expect(
            ClientIdentity.key(fromAuthInfo: try authInfo("user-cert.pub"))
                == "ED25519-CERT \(try fingerprint("user.pub")) ID alice@laptop (serial 7) CA ECDSA \(try fingerprint("ca.pub"))"
        )
        // The last key of several methods is the one that logged in; junk names none.
        #expect(
            ClientIdentity.key(fromAuthInfo: "publickey ssh-rsa AAAA\n" + (try authInfo("user.pub")))
                == "ED25519 \(try fingerprint("user.pub"))")
        #expect(ClientIdentity.key(fromAuthInfo: "password\n") == nil)
        #expect(ClientIdentity.key(fromAuthInfo: "publickey ssh-ed25519-cert-v01@openssh.com AAAA\n") == nil)
    }

    @Test func jsonTextEscapesWhatItMust() throws {
        let value = JSONValue.object([
            ("text", .string("a\"b\\c\n\u{1b}[31m\u{85}é")), ("n", .number(0.1234)), ("none", .null),
            ("list", .array([.int(-3), .bool(true)])),
        ])
        #expect(value.text == #"{"text":"a\"b\\c\n\u001b[31m\u0085é","n":0.123,"none":null,"list":[-3,true]}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(value.text.utf8)) as? [String: Any]
        #expect(parsed?["text"] as? String == "a\"b\\c\n\u{1b}[31m\u{85}é")
    }

    @Test func recentFailuresCountRepeatsAndKeepTheLatest() {
        var list = StatusReport.RecentFailures()
        func failure(_ host: String, _ summary: String, _ file: String? = nil) -> StatusReport.Failure {
            StatusReport.Failure(time: "t", host: host, file: file, summary: summary)
        }
        list.add(failure("a", "down", "x.c"))
        list.add(failure("a", "down", "y.c"))
        list.add(failure("a", "down"))
        #expect(list.lines.count == 1 && list.lines[0].count == 3 && list.lines[0].file == "y.c")
        for index in 0..<20 { list.add(failure("b", "failure \(index)")) }
        #expect(list.lines.count == StatusReport.RecentFailures.kept)
        #expect(list.lines.last?.summary == "failure 19")
    }

    @Test func theSourceACommandLineNames() {
        #expect(PathName.source(in: ["gcc", "-c", "-o", "x.c.o", "src/x.c"]) == "src/x.c")
        #expect(PathName.source(in: ["g++", "-O2", "-c", "a b.cpp", "-o", "a.o"]) == "a b.cpp")
        #expect(PathName.source(in: ["gcc", "-c"]) == "?")
    }
}
