// Where a reply ends, found from its frame headers alone: exactly at its last byte however the bytes are
// cut, in every version, and garbage named as the decoder names it.

import DistccWire
import Testing

struct ReplyExtentTests {
    static let reply = Reply(
        status: 1 << 8, stderr: Array("a.c:1: warning\n".utf8), stdout: [],
        object: Array(repeating: 0x7f, count: 70_000))

    @Test(arguments: [DistccVersion.plain, DistccVersion.lzo, DistccVersion.zstd, DistccVersion.zstdStreamed])
    func theEndIsFoundAtTheLastByteHoweverTheBytesAreCut(_ version: DistccVersion) throws {
        var reply = Self.reply
        reply.version = version
        let bytes = WireEncoder.encode(reply)
        for cut in [1, 7, 12, 4096, bytes.count] {
            var extent = ReplyExtent()
            var offset = 0
            var progress = ReplyExtent.Progress.needMore
            while offset < bytes.count {
                let end = min(offset + cut, bytes.count)
                progress = try extent.consume(Array(bytes[offset..<end]))
                offset = end
                if offset < bytes.count { #expect(progress == .needMore) }
            }
            #expect(progress == .complete(trailing: 0))
            #expect(extent.total == bytes.count)
        }
    }

    @Test func bytesAfterTheReplyAreCounted() throws {
        var extent = ReplyExtent()
        #expect(try extent.consume(WireEncoder.encode(Self.reply) + Array("DONE".utf8)) == .complete(trailing: 4))
    }

    @Test func garbageAndOversizedBodiesAreRefused() {
        var wrong = ReplyExtent()
        #expect(throws: WireError.self) { try wrong.consume(Array("HTTP/1.1 200 OK\r\n".utf8)) }
        var badHex = ReplyExtent()
        #expect(throws: WireError.self) { try badHex.consume(Array("DONE0000000g".utf8)) }
        var unknownVersion = ReplyExtent()
        #expect(throws: WireError.self) { try unknownVersion.consume(Array("DONE00000009".utf8)) }
        var limits = WireLimits()
        limits.maxMessageLength = 10
        var huge = ReplyExtent(limits: limits)
        #expect(throws: WireError.self) { try huge.consume(Array("DONE00000001STAT00000000SERR000000ff".utf8)) }
    }
}
