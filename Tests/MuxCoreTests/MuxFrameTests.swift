// The mux wire codec: frames round-trip, arrive byte by byte, and garbage is named.

import CompileCore
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
        let job = JobSubmission(
            hostList: "a/2\nb:2222 # comment", access: Self.access,
            arguments: ["gcc", "-DNAME=a b", "", "-c", "é.c", "-o", "x.o"],
            toolchain: "0123abcd gcc 12.2.0 x86_64-linux-gnu")
        var received = try frames(MuxCodec.jobHead(job, version: "5 sshcc 9"))
        #expect(received.first == MuxFrame(.version, text: "5 sshcc 9"))
        received.removeFirst()
        #expect(try MuxCodec.request(from: received) == .job(job))
        #expect(try MuxCodec.request(from: Array(received.dropLast())) == nil, "incomplete until JOBA")
    }

    /// The source follows its command line: pieces (JOBC) and the rest (JOBS), in order.
    @Test func theSourceFollowsInPieces() throws {
        let job = JobSubmission(hostList: "a/2", access: Self.access, arguments: ["gcc", "-c", "a.c"])
        let piece = Array("int x;\n".utf8)
        let rest = Array("int y;\n".utf8)
        var received = try frames(
            MuxCodec.jobHead(job, version: "5 sshcc 9") + MuxCodec.sourceHeader(count: piece.count, last: false) + piece
                + MuxCodec.sourceHeader(count: rest.count) + rest)
        received.removeFirst()
        #expect(try MuxCodec.request(from: Array(received.dropLast(2))) == .job(job), "complete at JOBA")
        #expect(Array(received.suffix(2)) == [MuxFrame(.jobPiece, piece), MuxFrame(.jobSource, rest)])
    }

    /// Arguments are C strings: a body that is not NUL-terminated UTF-8, or holds no argument, is refused.
    @Test(arguments: [[UInt8](), Array("gcc".utf8), [0x67, 0xff, 0], [0]])
    func badArgumentsAreRefused(_ body: [UInt8]) {
        #expect(throws: MuxWireError.self) { try MuxCodec.request(from: [MuxFrame(.jobArguments, body)]) }
    }

    @Test(arguments: [
        JobAnswer.compiled(
            host: "h:22",
            result: JobResult(status: .exited(1), stdout: [1], stderr: Array("w\n".utf8)),
            notes: ["x: down", "  fix: y"]),
        .compiled(host: "h", result: JobResult(status: WaitStatus(9), object: [0, 1, 2]), notes: []),
        .runLocally(notes: []),
        .failure(code: 105, summary: "host key unknown", details: ["  line 1", "", "  line 3"], notes: ["n"]),
        .failure(code: 108, summary: "h refuses every job", details: [], notes: [], alreadyTold: true),
    ])
    func answersRoundTrip(_ answer: JobAnswer) throws {
        #expect(try MuxCodec.answer(from: frames(MuxCodec.encode(answer))) == answer)
    }

    /// A result is complete only with its status and host: an ROBJ without them is refused, not guessed.
    @Test func aResultWithoutItsStatusIsRefused() {
        #expect(throws: MuxWireError.self) {
            try MuxCodec.answer(from: [MuxFrame(.compiledOn, text: "h"), MuxFrame(.resultObject, [1])])
        }
        #expect(throws: MuxWireError.self) {
            try MuxCodec.answer(from: [
                MuxFrame(.compiledOn, text: "h"), MuxFrame(.resultStatus, text: "x"), MuxFrame(.resultObject),
            ])
        }
    }

    @Test func garbageIsNamed() {
        var reader = MuxReader()
        reader.append(Array("GET / HTTP/1.1\r\n".utf8))
        #expect(throws: MuxWireError.unknownKind(Array("GET ".utf8))) { try reader.next() }
        var long = MuxReader()
        long.append(Array("JOBAffffffff".utf8))
        #expect(throws: MuxWireError.tooLong(kind: .jobArguments, length: 0xffff_ffff, limit: MuxReader.maximumBody)) {
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
