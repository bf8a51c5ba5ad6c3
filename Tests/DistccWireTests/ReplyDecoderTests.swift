// ReplyDecoder ↔ ReplyDecoder.swift, and Reply's wait-status helpers.

import DistccWire
import Testing

@Suite struct ReplyDecoderTests {
    let reply = Reply(
        status: Reply.exitStatus(1), stderr: Array("x.c:1: error\n".utf8), stdout: Array("out".utf8), object: [1, 2, 3])

    @Test func roundTrip() throws {
        var decoder = ReplyDecoder()
        decoder.append(WireEncoder.encode(reply))
        #expect(try decoder.next() == reply)
        #expect(decoder.isAtBoundary)
    }

    @Test func layoutMatchesTheProtocolDocument() {
        let bytes = WireEncoder.encode(Reply(status: 0, object: [0x7f]))
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "DONE00000001STAT00000000SERR00000000SOUT00000000DOTO00000001\u{7f}")
    }

    @Test func oneByteAtATime() throws {
        let bytes = WireEncoder.encode(reply)
        var decoder = ReplyDecoder()
        for (index, byte) in bytes.enumerated() {
            decoder.append([byte])
            let result = try decoder.next()
            #expect((result != nil) == (index == bytes.count - 1))
            if let result { #expect(result == reply) }
        }
    }

    @Test func fieldsOutOfOrder() {
        var decoder = ReplyDecoder()
        decoder.append(Array("DONE00000001STAT00000000SOUT00000000".utf8))
        #expect(throws: WireError.unexpectedToken(expected: .serr, got: Array("SOUT00000000".utf8))) {
            try decoder.next()
        }
    }

    @Test func objectOverLimit() {
        var limits = WireLimits()
        limits.maxObjectLength = 10
        var decoder = ReplyDecoder(limits: limits)
        decoder.append(Array("DONE00000001STAT00000000SERR00000000SOUT00000000DOTO0000000b".utf8))
        #expect(throws: WireError.overLimit(what: "DOTO length", value: 11, limit: 10)) { try decoder.next() }
    }

    @Test func messagesOverLimit() {
        var limits = WireLimits()
        limits.maxMessageLength = 4
        var decoder = ReplyDecoder(limits: limits)
        decoder.append(Array("DONE00000001STAT00000000SERR00000005".utf8))
        #expect(throws: WireError.overLimit(what: "SERR length", value: 5, limit: 4)) { try decoder.next() }
    }

    @Test func truncatedReply() throws {
        var decoder = ReplyDecoder()
        decoder.append(WireEncoder.encode(reply).dropLast(1))
        #expect(try decoder.next() == nil)
        #expect(throws: WireError.truncated(expecting: "the DOTO frame", bufferedBytes: 2)) { try decoder.finish() }
    }

    @Test func badVersion() {
        var decoder = ReplyDecoder()
        decoder.append(Array("DONE00000003".utf8))
        #expect(throws: WireError.unsupportedVersion(token: .done, version: 3, speaks: [1, 2, 4, 5, 6, 7])) {
            try decoder.next()
        }
    }

    @Test func waitStatus() {
        #expect(Reply(status: 0).exitCode == 0)
        #expect(Reply(status: 0x100).exitCode == 1)
        #expect(Reply(status: 0x400).exitCode == 4)
        #expect(Reply(status: 0x100).terminatingSignal == nil)
        #expect(Reply(status: 9).exitCode == nil)
        #expect(Reply(status: 9).terminatingSignal == 9)
        #expect(Reply(status: 0x8b).terminatingSignal == 11)  // SIGSEGV with a core dump
        #expect(Reply.exitStatus(108) == 0x6c00)
    }
}
