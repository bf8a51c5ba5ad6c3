// Version 5 ↔ RequestDecoder.swift, WireEncoder.sourcePiece, ZstdStream.swift: a source sent in pieces
// (DOTC… DOTI) while it is produced decodes to exactly the text, in any split and any byte-by-byte arrival;
// its command line is known before its first piece; damaged, cut, trailing, oversized or misplaced pieces are
// protocol errors that name the frame.

import DistccWire
import Testing
import WireCompression

@Suite struct StreamedSourceTests {
    static let text = CompressedBodyTests.text
    static let arguments = ["gcc", "-O2", "-c", "a.c", "-o", "a.o"]

    /// A version 5 request whose source is cut into pieces of `pieceSize` bytes (the last may be empty).
    static func request(_ source: [UInt8], pieceSize: Int, lastEmpty: Bool = false) -> [UInt8] {
        let compressor = ZstdStreamCompressor()
        var out = WireEncoder.requestFields(
            Request(version: DistccVersion.zstdStreamed, arguments: arguments, source: []))
        var pieces = stride(from: 0, to: source.count, by: pieceSize).map {
            Array(source[$0..<min($0 + pieceSize, source.count)])
        }
        if lastEmpty || pieces.isEmpty { pieces.append([]) }
        for (index, piece) in pieces.enumerated() {
            out += WireEncoder.sourcePiece(piece, last: index == pieces.count - 1, compressor: compressor)
        }
        return out
    }

    static func decode(_ bytes: [UInt8], limits: WireLimits = .default) throws(WireError) -> Request? {
        var decoder = RequestDecoder(limits: limits)
        decoder.append(bytes)
        return try decoder.next()
    }

    static func count(_ token: String, in bytes: [UInt8]) -> Int {
        var count = 0
        var rest = bytes[...]
        while let range = rest.firstRange(of: Array(token.utf8)) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }

    @Test(arguments: [1_000, 16 * 1024, 64 * 1024, 1 << 20])
    func piecesDecodeToTheWholeSource(pieceSize: Int) throws {
        for lastEmpty in [false, true] {
            let bytes = Self.request(Self.text, pieceSize: pieceSize, lastEmpty: lastEmpty)
            let expectedPieces = (Self.text.count + pieceSize - 1) / pieceSize - (lastEmpty ? 0 : 1)
            #expect(Self.count("DOTC", in: bytes) == expectedPieces)
            let request = try #require(try Self.decode(bytes))
            #expect(request.source == Self.text)
            #expect(request.version == DistccVersion.zstdStreamed)
            #expect(request.arguments == Self.arguments)
        }
    }

    /// One frame across the pieces: the window carries over, so 16 KiB pieces cost little over one body.
    @Test func piecesCompressAboutAsWellAsOneBody() throws {
        let streamed = Self.request(Self.text, pieceSize: 16 * 1024).count
        let whole = WireEncoder.encode(
            Request(version: DistccVersion.zstd, arguments: Self.arguments, source: Self.text)
        ).count
        #expect(Double(streamed) < Double(whole) * 1.15, "\(streamed) vs \(whole) bytes")
    }

    /// Byte by byte, as a slow channel delivers it: the command line is known before any piece, the request
    /// only once its DOTI is whole, and the decoder is then back between requests.
    @Test func arrivingByteByByte() throws {
        let bytes = Self.request(Self.text, pieceSize: 20_000)
        let firstPiece = try #require(bytes.firstRange(of: Array("DOTC".utf8))).lowerBound
        var decoder = RequestDecoder()
        var decoded: [Request] = []
        for (index, byte) in bytes.enumerated() {
            decoder.append([byte])
            if let next = try decoder.next() { decoded.append(next) }
            if index == firstPiece - 1 { #expect(decoder.pendingArguments == Self.arguments) }
            if index == bytes.count - 2 { #expect(decoded.isEmpty && decoder.pendingArguments == Self.arguments) }
        }
        #expect(decoded.map(\.source) == [Self.text])
        try decoder.finish()
    }

    @Test func anEmptySourceIsAnEmptyDOTI() throws {
        let bytes = Self.request([], pieceSize: 100)
        #expect(bytes.suffix(12) == Array("DOTI00000000".utf8))
        #expect(try Self.decode(bytes)?.source == [])
        // A whole body in one DOTI (a version 4 frame) is version 5 too.
        let whole = WireEncoder.encode(
            Request(version: DistccVersion.zstdStreamed, arguments: Self.arguments, source: Self.text))
        #expect(try Self.decode(whole)?.source == Self.text)
    }

    static func error(_ bytes: [UInt8], limits: WireLimits = .default) -> WireError? {
        do {
            _ = try decode(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func damagedCutOrTrailingPiecesAreRefused() throws {
        let bytes = Self.request(Self.text, pieceSize: 30_000)
        let lastFrame = try #require(bytes.lastRange(of: Array("DOTI".utf8))).lowerBound
        // A flipped byte inside a DOTC body (after the zstd frame header): the decoder or the checksum says so.
        var flipped = bytes
        flipped[bytes.firstRange(of: Array("DOTC".utf8))!.upperBound + 8 + 40] ^= 0x5a
        // The last piece's body without its end: the frame is cut short.
        var cut = Array(bytes[..<lastFrame])
        cut += Array("DOTI00000000".utf8)
        // Bytes after the frame's end.
        let lastBody = Array(bytes[(lastFrame + 12)...])
        var trailing = Array(bytes[..<lastFrame])
        trailing += Array(String(format: "DOTI%08x", lastBody.count + 3).utf8) + lastBody + [1, 2, 3]
        for (name, damaged) in [("flipped", flipped), ("cut", cut), ("trailing", trailing)] {
            let error = Self.error(damaged)
            guard case .badBody(_, let reason) = error else {
                Issue.record("\(name): \(String(describing: error))")
                continue
            }
            #expect(reason.starts(with: "corrupt compressed data"), "\(name): \(reason)")
        }
    }

    @Test func piecesOnlyInVersionFiveAndNeverEmpty() throws {
        let head = WireEncoder.requestFields(Request(version: DistccVersion.zstd, arguments: ["gcc"], source: []))
        #expect(
            Self.error(head + Array("DOTC00000001x".utf8))
                == .unexpectedToken(expected: .doti, got: Array("DOTC00000001".utf8)))
        let streamedHead = WireEncoder.requestFields(
            Request(version: DistccVersion.zstdStreamed, arguments: ["gcc"], source: []))
        #expect(
            Self.error(streamedHead + Array("DOTC00000000".utf8)) == .badBody(token: .dotc, reason: "an empty piece"))
        guard case .unexpectedToken = Self.error(streamedHead + Array("ARGV00000001x".utf8)) else {
            Issue.record("ARGV where a piece belongs was accepted")
            return
        }
    }

    /// The limit holds for the text decoded so far and for the compressed bytes announced.
    @Test func theSourceLimitCoversAllPieces() throws {
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        var limits = WireLimits()
        limits.maxSourceLength = 1 << 20
        let bytes = Self.request(zeros, pieceSize: 256 * 1024)
        guard case .badBody(.dotc, let reason) = Self.error(bytes, limits: limits) else {
            Issue.record("4 MiB of pieces passed a 1 MiB limit")
            return
        }
        #expect(reason.contains("more than the limit of 1048576"), "\(reason)")
        // A piece announced past the limit is refused at its header, counting the pieces before it.
        let valid = Self.request(Self.text, pieceSize: 30_000)
        let firstPiece = try #require(valid.firstRange(of: Array("DOTC".utf8))).upperBound
        let firstLength = try #require(
            Int(String(decoding: valid[firstPiece..<firstPiece + 8], as: UTF8.self), radix: 16))
        let second = firstPiece + 8 + firstLength
        let overLimit = Array(valid[..<second]) + Array("DOTC00100000".utf8)
        #expect(
            Self.error(overLimit, limits: limits)
                == .overLimit(
                    what: "preprocessed source length (DOTC and DOTI)", value: firstLength + (1 << 20), limit: 1 << 20))
    }

    /// A frame that asks for a window beyond 8 MiB is refused before a server allocates it.
    @Test func aHugeWindowIsRefused() throws {
        // Magic, descriptor 0 (single segment off, no size, no checksum), window descriptor 0xA0 (2^30 bytes),
        // then a raw last block "hi".
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0xA0, 0x11, 0x00, 0x00] + Array("hi".utf8)
        let decompressor = ZstdStreamDecompressor(limit: 1 << 20)
        #expect(throws: DecompressionError.self) { try decompressor.decompress(frame) }
        // The same frame with a 1 KiB window decodes.
        let small: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00, 0x11, 0x00, 0x00] + Array("hi".utf8)
        let decoder = ZstdStreamDecompressor(limit: 1 << 20)
        #expect(try decoder.decompress(small) == Array("hi".utf8))
        try decoder.finish()
    }
}
