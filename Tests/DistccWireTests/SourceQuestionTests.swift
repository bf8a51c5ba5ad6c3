// Version 7 ↔ RequestDecoder.swift, ReplyExtent.swift, WireEncoder.sourceQuestion: a request may carry its
// source's SHA-256 (DOTH) in place of the source; the decoder returns it as a question and reads nothing more
// until the server has answered; after `NEED` the same request's source follows, in pieces or whole, and no
// second question. A question in another version, of the wrong length, after pieces, or a `NEED` that carries
// a value, is a protocol error.

import DistccWire
import Testing
import WireCompression

@Suite struct SourceQuestionTests {
    static let arguments = ["gcc", "-O2", "-c", "a.c", "-o", "a.o"]
    static let text = CompressedBodyTests.text
    /// Any 32 bytes: the decoder does not check what a digest is of (the server's key does).
    static let digest = (0..<32).map { UInt8($0 * 7 % 256) }

    static func head(_ version: DistccVersion = .asksFirst) -> [UInt8] {
        WireEncoder.requestFields(Request(version: version, arguments: arguments, source: []))
    }

    static func error(_ bytes: [UInt8], answer: Bool? = nil) -> WireError? {
        var decoder = RequestDecoder()
        decoder.append(bytes)
        do {
            while let request = try decoder.next() {
                guard request.sourceDigest != nil, let answer else { return nil }
                decoder.answered(needSource: answer)
            }
            return nil
        } catch {
            return error
        }
    }

    @Test func aQuestionThenTheSourceAfterNeed() throws {
        let digest = Self.digest
        let question = Self.head() + WireEncoder.sourceQuestion(digest: digest)
        let source = StreamedSourceTests.request(Self.text, pieceSize: 20_000)
        let pieces = Array(source[Self.head(.zstdStreamed).count...])
        var decoder = RequestDecoder()
        // Everything at once: the question comes first, and the bytes after it wait for the answer.
        decoder.append(question + pieces)
        let asked = try #require(try decoder.next())
        #expect(asked.sourceDigest == digest && asked.source.isEmpty && asked.arguments == Self.arguments)
        #expect(decoder.pendingArguments == Self.arguments, "the job can be got ready meanwhile")
        #expect(try decoder.next() == nil, "nothing is read before the answer")
        #expect(!decoder.isAtBoundary)
        decoder.answered(needSource: true)
        let whole = try #require(try decoder.next())
        #expect(whole.source == Self.text && whole.sourceDigest == nil && whole.arguments == Self.arguments)
        #expect(decoder.isAtBoundary)
    }

    @Test func aQuestionAnsweredByAReplyEndsTheRequest() throws {
        let question = Self.head() + WireEncoder.sourceQuestion(digest: Array(repeating: 3, count: 32))
        let next = WireEncoder.encode(Request(version: .asksFirst, arguments: ["gcc", "-c", "b.c"], source: [7]))
        var decoder = RequestDecoder()
        for byte in question + next { decoder.append([byte]) }  // byte by byte
        #expect(try decoder.next()?.sourceDigest != nil)
        decoder.answered(needSource: false)
        let second = try #require(try decoder.next())
        #expect(second.arguments == ["gcc", "-c", "b.c"] && second.source == [7])
        #expect(decoder.isAtBoundary)
        // Encoded as a whole request, a question is the head and its DOTH.
        #expect(
            WireEncoder.encode(
                Request(
                    version: .asksFirst, arguments: Self.arguments, source: [],
                    sourceDigest: Array(repeating: 9, count: 32))) == Self.head()
                + WireEncoder.sourceQuestion(digest: Array(repeating: 9, count: 32)))
    }

    @Test func misplacedOrMalformedQuestionsAreProtocolErrors() throws {
        let digest = Self.digest
        let question = WireEncoder.sourceQuestion(digest: digest)
        // Only version 7 asks.
        for version in [DistccVersion.zstdStreamed, .loadReported] {
            guard case .unexpectedToken(.doti, _) = Self.error(Self.head(version) + question, answer: true) else {
                Issue.record("a question in version \(version) was accepted")
                continue
            }
        }
        // Not a SHA-256.
        #expect(
            Self.error(Self.head() + Array("DOTH00000010".utf8) + Array(repeating: 0, count: 16))
                == .badBody(token: .doth, reason: "16 bytes where a SHA-256 digest (32) belongs"))
        // After a piece of the source.
        let compressor = ZstdStreamCompressor()
        let piece = WireEncoder.sourcePiece(Array(Self.text.prefix(1000)), last: false, compressor: compressor)
        #expect(
            Self.error(Self.head() + piece + question)
                == .badBody(token: .doth, reason: "after pieces of the source"))
        // A second question after NEED: the source must come.
        guard case .unexpectedToken(.doti, _) = Self.error(Self.head() + question + question, answer: true) else {
            Issue.record("a second question after NEED was accepted")
            return
        }
    }

    @Test func needIsAWholeAnswerOfOneHeader() throws {
        var extent = ReplyExtent()
        #expect(try extent.consume(Array("NEE".utf8)) == .needMore)
        #expect(try extent.consume(Array("D00000000".utf8)) == .complete(trailing: 0))
        #expect(extent.sourceNeeded)
        var trailing = ReplyExtent()
        #expect(try trailing.consume(WireEncoder.sourceNeeded + [1]) == .complete(trailing: 1))
        var valued = ReplyExtent()
        #expect(throws: WireError.badParameter(token: .need, got: Array("00000001".utf8))) {
            try valued.consume(Array("NEED00000001".utf8))
        }
        // NEED is no frame of a reply: after DONE it is out of place.
        var late = ReplyExtent()
        let reply = WireEncoder.encode(Reply(version: .asksFirst, status: 0))
        #expect(throws: WireError.self) { try late.consume(Array(reply.prefix(12)) + WireEncoder.sourceNeeded) }
        var whole = ReplyExtent()
        #expect(try whole.consume(reply) == .complete(trailing: 0) && !whole.sourceNeeded)
    }
}
