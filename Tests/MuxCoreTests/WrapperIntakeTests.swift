// What the daemon makes of a wrapper's bytes: the request, the source's pieces in order however the bytes
// are cut, and a wrapper of another version told so — even one whose frames this daemon does not know —
// while STOP works across versions.

import CompileCore
import MuxCore
import Testing

struct WrapperIntakeTests {
    static let version = "5 sshcc 1"
    static let access = HostAccess(identity: nil, knownHosts: "/k", agentSocket: nil, connectTimeout: nil, ioTimeout: 9)
    static let job = JobSubmission(hostList: "a/2", access: access, arguments: ["gcc", "-c", "a.c"])

    func feed(_ bytes: [UInt8], cut: Int, version: String = version) throws -> [WrapperIntake.Event] {
        var intake = WrapperIntake(version: version)
        var events: [WrapperIntake.Event] = []
        var offset = 0
        while offset < bytes.count {
            events += try intake.receive(bytes[offset..<min(offset + cut, bytes.count)])
            offset += cut
        }
        return events
    }

    @Test(arguments: [1, 5, 13, 4096])
    func aJobAndItsSourceInOrderHoweverTheBytesAreCut(_ cut: Int) throws {
        let bytes =
            MuxCodec.jobHead(Self.job, version: Self.version) + MuxCodec.sourceHeader(count: 3, last: false)
            + Array("abc".utf8) + MuxCodec.sourceHeader(count: 2) + Array("de".utf8)
        #expect(
            try feed(bytes, cut: cut) == [
                .request(.job(Self.job), peerVersion: Self.version), .piece(Array("abc".utf8), last: false),
                .piece(Array("de".utf8), last: true),
            ])
    }

    @Test func nothingMayFollowTheSource() {
        var intake = WrapperIntake(version: Self.version)
        let bytes = MuxCodec.jobHead(Self.job, version: Self.version) + MuxCodec.sourceHeader(count: 0)
        #expect(throws: Never.self) { try intake.receive(bytes) }
        #expect(intake.isComplete)
        #expect(throws: MuxWireError.self) { try intake.receive(MuxFrame(.note, text: "x").encoded) }
    }

    @Test func anythingButSourceAfterTheJobIsRefused() {
        var intake = WrapperIntake(version: Self.version)
        let bytes = MuxCodec.jobHead(Self.job, version: Self.version) + MuxFrame(.statusQuery).encoded
        #expect(throws: MuxWireError.self) { try intake.receive(bytes) }
    }

    /// An older wrapper's job (JOBH, a kind this daemon no longer knows) hears that the daemon is of another
    /// version, so it can replace it; its STOP is obeyed.
    @Test func aWrapperOfAnotherVersionIsToldSoAndItsStopObeyed() throws {
        let old = "4 sshcc 0.9"
        let oldJob =
            MuxFrame(.version, text: old).encoded + MuxFrame(.hostList, text: "a").encoded
            + Array("JOBH00000004DIST".utf8)
        #expect(try feed(oldJob, cut: 7) == [.otherVersion(old)])
        #expect(try feed(MuxCodec.jobHead(Self.job, version: old), cut: 64) == [.otherVersion(old)])
        let stop = MuxFrame(.version, text: old).encoded + MuxFrame(.stop).encoded
        #expect(try feed(stop, cut: 3) == [.request(.stop, peerVersion: old)])
    }

    @Test func garbageFromThisVersionIsAnError() {
        var intake = WrapperIntake(version: Self.version)
        #expect(throws: MuxWireError.self) { try intake.receive(Array("GET / HTTP/1.1\r\n".utf8)) }
        var early = WrapperIntake(version: Self.version)
        let piece = MuxFrame(.version, text: Self.version).encoded + MuxCodec.sourceHeader(count: 0)
        #expect(throws: MuxWireError.self) { try early.receive(piece) }
    }

    @Test func theWrappersSettingsComeFromItsEnvironment() {
        let environment = [
            "SSHCC_IDENTITY": "/id", "SSHCC_KNOWN_HOSTS": "", "SSH_AUTH_SOCK": "/agent", "SSHCC_CONNECT_TIMEOUT": "-3",
            "SSHCC_IO_TIMEOUT": "45", "SSHCC_SSH_CONFIG": "/cfg",
        ]
        let access = HostAccess.from(environment: { environment[$0] })
        #expect(
            access
                == HostAccess(
                    identity: "/id", knownHosts: nil, agentSocket: "/agent", connectTimeout: nil, ioTimeout: 45,
                    sshConfig: "/cfg"))
        #expect(HostAccess.from(environment: { _ in nil }).ioTimeout == 300)
    }
}
