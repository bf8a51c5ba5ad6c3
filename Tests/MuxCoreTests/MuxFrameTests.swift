// The mux wire codec: frames round-trip, arrive byte by byte, and garbage is named.

import MuxCore
import Testing

struct MuxFrameTests {
    static let access = HostAccess(
        identity: "/home/u/.ssh/id", knownHosts: "/home/u/.ssh/known_hosts", agentSocket: "/run/agent",
        connectTimeout: 7, ioTimeout: 90)

    func frames(_ bytes: [UInt8]) throws -> [MuxFrame] {
        var reader = MuxReader()
        var frames: [MuxFrame] = []
        // Drip-feed: one byte at a time, a frame only once its last byte is in.
        for byte in bytes {
            reader.append([byte])
            while let frame = try reader.next() { frames.append(frame) }
        }
        #expect(reader.isEmpty)
        return frames
    }

    @Test func aJobRoundTrips() throws {
        let job = JobSubmission(hostList: "a/2\nb:2222 # comment", access: Self.access, request: Array("DIST…".utf8))
        let bytes = MuxCodec.jobHead(job, version: "1 sshcc 9") + job.request
        var received = try frames(bytes)
        #expect(received.first == MuxFrame(.version, text: "1 sshcc 9"))
        received.removeFirst()
        #expect(try MuxCodec.request(from: received) == .job(job))
        #expect(try MuxCodec.request(from: Array(received.dropLast())) == nil, "incomplete until JOBR")
    }

    /// A job sent ahead of its source: JOBH (the command line) is a complete request; JOBS follows later.
    @Test func aJobWhoseSourceFollowsRoundTrips() throws {
        let job = JobSubmission(
            hostList: "a/2", access: Self.access, request: Array("DIST…ARGV".utf8), sourceFollows: true)
        let source = Array("int x;\n".utf8)
        let bytes = MuxCodec.jobHead(job, version: "2 sshcc 9") + job.request
        var received = try frames(bytes + MuxCodec.sourceHeader(count: source.count) + source)
        received.removeFirst()
        #expect(try MuxCodec.request(from: Array(received.dropLast())) == .job(job), "complete at JOBH")
        #expect(received.last == MuxFrame(.jobSource, source))
    }

    @Test(arguments: [
        JobAnswer.reply(host: "h:22", reply: [1, 2, 3], notes: ["x: down", "  fix: y"]),
        .runLocally(notes: []),
        .failure(code: 105, summary: "host key unknown", details: ["  line 1", "", "  line 3"], notes: ["n"]),
    ])
    func answersRoundTrip(_ answer: JobAnswer) throws {
        #expect(try MuxCodec.answer(from: frames(MuxCodec.encode(answer))) == answer)
    }

    @Test func garbageIsNamed() {
        var reader = MuxReader()
        reader.append(Array("GET / HTTP/1.1\r\n".utf8))
        #expect(throws: MuxWireError.unknownKind(Array("GET ".utf8))) { try reader.next() }
        var long = MuxReader()
        long.append(Array("JOBRffffffff".utf8))
        #expect(throws: MuxWireError.tooLong(kind: .job, length: 0xffff_ffff, limit: MuxReader.maximumBody)) {
            try long.next()
        }
        var hex = MuxReader()
        hex.append(Array("NOTE0000001x".utf8))
        #expect(throws: MuxWireError.badLength(Array("0000001x".utf8))) { try hex.next() }
    }

    @Test func pathsFollowTheEnvironment() {
        #expect(MuxPaths.resolve(sshccDir: "/x", runtimeDir: "/run/user/1", uid: 1).socket == "/x/mux.sock")
        #expect(MuxPaths.resolve(sshccDir: nil, runtimeDir: "/run/user/1", uid: 1).directory == "/run/user/1/sshcc")
        #expect(MuxPaths.resolve(sshccDir: "", runtimeDir: "relative", uid: 7).directory == "/tmp/sshcc-7")
    }
}
