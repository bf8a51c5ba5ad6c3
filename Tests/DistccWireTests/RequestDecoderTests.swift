// RequestDecoder ↔ RequestDecoder.swift: round trips, drip-feeding, and every malformed request.

import DistccWire
import Testing

@Suite struct RequestDecoderTests {
    let request = Request(arguments: ["gcc", "-c", "x.c", "-o", "x.o"], source: Array("int x;\n".utf8))

    @Test func roundTrip() throws {
        var decoder = RequestDecoder()
        decoder.append(WireEncoder.encode(request))
        #expect(try decoder.next() == request)
        #expect(try decoder.next() == nil)
        #expect(decoder.isAtBoundary)
    }

    @Test func headersAreLowercaseHexWithoutSeparators() {
        let bytes = WireEncoder.encode(
            Request(arguments: ["x86_64-linux-gnu-gcc"], source: Array(repeating: 0x41, count: 0xab)))
        let text = String(decoding: bytes.prefix(56), as: UTF8.self)
        #expect(text == "DIST00000001ARGC00000001ARGV00000014x86_64-linux-gnu-gcc")
        #expect(String(decoding: bytes[56..<68], as: UTF8.self) == "DOTI000000ab")
    }

    /// Drip-feed: nothing until the very last byte, then exactly the request.
    @Test func oneByteAtATime() throws {
        let bytes = WireEncoder.encode(request)
        var decoder = RequestDecoder()
        for (index, byte) in bytes.enumerated() {
            decoder.append([byte])
            let result = try decoder.next()
            if index < bytes.count - 1 {
                #expect(result == nil, "complete after \(index + 1) of \(bytes.count) bytes")
                #expect(!decoder.isAtBoundary)
            } else {
                #expect(result == request)
            }
        }
    }

    @Test func manyRequestsOnOneStream() throws {
        let second = Request(arguments: ["g++", "-c", "y.cc"], source: [])
        var decoder = RequestDecoder()
        decoder.append(WireEncoder.encode(request) + WireEncoder.encode(second) + WireEncoder.encode(request))
        #expect(try decoder.next() == request)
        #expect(try decoder.next() == second)
        #expect(try decoder.next() == request)
        #expect(try decoder.next() == nil)
    }

    @Test func uppercaseHexIsAccepted() throws {
        var decoder = RequestDecoder()
        decoder.append(Array("DIST00000001ARGC00000001ARGV0000000Aabcdefghij DOTI00000000".utf8).filter { $0 != 0x20 })
        #expect(try decoder.next() == Request(arguments: ["abcdefghij"], source: []))
    }

    @Test func emptySourceAndEmptyArgument() throws {
        let odd = Request(arguments: ["gcc", ""], source: [])
        var decoder = RequestDecoder()
        decoder.append(WireEncoder.encode(odd))
        #expect(try decoder.next() == odd)
    }

    // MARK: Malformed input

    static func decode(_ text: String, limits: WireLimits = .default) throws(WireError) -> Request? {
        var decoder = RequestDecoder(limits: limits)
        decoder.append(Array(text.utf8))
        return try decoder.next()
    }

    @Test func httpRequestIsRejectedAtOnce() {
        #expect(throws: WireError.unexpectedToken(expected: .dist, got: Array("GET ".utf8))) { try Self.decode("GET ") }
    }

    @Test func garbageBytesAreShownInHex() {
        var decoder = RequestDecoder()
        decoder.append([0x00, 0xff, 0x10])
        #expect(throws: WireError.unexpectedToken(expected: .dist, got: [0x00, 0xff, 0x10])) { try decoder.next() }
        let message = WireError.unexpectedToken(expected: .dist, got: [0x00, 0xff, 0x10]).description
        #expect(message == "protocol error: expected token DIST, got bytes 00 ff 10")
    }

    @Test func wrongTokenInTheMiddle() {
        #expect(throws: WireError.unexpectedToken(expected: .argc, got: Array("ARGV00000001".utf8))) {
            try Self.decode("DIST00000001ARGV00000001")
        }
    }

    @Test func nonHexParameter() {
        #expect(throws: WireError.badParameter(token: .dist, got: Array("0000000g".utf8))) {
            try Self.decode("DIST0000000g")
        }
        #expect(throws: WireError.badParameter(token: .dist, got: Array(" 0000001".utf8))) {
            try Self.decode("DIST 0000001")
        }
    }

    @Test(arguments: [0, 3, 8, 0xffff_ffff] as [UInt32])
    func unsupportedVersions(version: UInt32) {
        var header: [UInt8] = []
        WireEncoder.appendHeader(.dist, version, to: &header)
        var decoder = RequestDecoder()
        decoder.append(header)
        #expect(throws: WireError.unsupportedVersion(token: .dist, version: version, speaks: [1, 2, 4, 5, 6, 7])) {
            try decoder.next()
        }
    }

    /// A server may accept fewer versions (`sshccd --protocols 1`); its error names what it speaks.
    @Test func versionsNarrowedByTheLimits() throws {
        var limits = WireLimits()
        limits.versions = [1]
        var decoder = RequestDecoder(limits: limits)
        decoder.append(Array("DIST00000004".utf8))
        #expect(throws: WireError.unsupportedVersion(token: .dist, version: 4, speaks: [1])) { try decoder.next() }
        let error = WireError.unsupportedVersion(token: .dist, version: 4, speaks: [1])
        #expect(error.description.contains("this peer speaks version 1 ("))
    }

    @Test func tooManyArguments() {
        var limits = WireLimits()
        limits.maxArgumentCount = 3
        #expect(throws: WireError.overLimit(what: "argument count (ARGC)", value: 4, limit: 3)) {
            try Self.decode("DIST00000001ARGC00000004", limits: limits)
        }
        #expect(throws: WireError.self) { try Self.decode("DIST00000001ARGCffffffff") }
    }

    @Test func zeroArgumentsIsRejected() {
        #expect(throws: WireError.self) { try Self.decode("DIST00000001ARGC00000000") }
    }

    @Test func overlongArgumentIsRejectedBeforeItsBodyArrives() {
        var limits = WireLimits()
        limits.maxArgumentLength = 16
        #expect(throws: WireError.overLimit(what: "length of argument 1 (ARGV)", value: 17, limit: 16)) {
            try Self.decode("DIST00000001ARGC00000001ARGV00000011", limits: limits)
        }
    }

    @Test func overlongSourceIsRejectedBeforeItsBodyArrives() {
        var limits = WireLimits()
        limits.maxSourceLength = 1000
        #expect(throws: WireError.overLimit(what: "preprocessed source length (DOTI)", value: 1001, limit: 1000)) {
            try Self.decode("DIST00000001ARGC00000001ARGV00000003gccDOTI000003e9", limits: limits)
        }
    }

    @Test func argumentWithNulByte() {
        var bytes = Array("DIST00000001ARGC00000001ARGV00000003".utf8)
        bytes += [0x67, 0x00, 0x63]
        var decoder = RequestDecoder()
        decoder.append(bytes)
        #expect(throws: WireError.badArgument(index: 1, reason: "contains a NUL byte")) { try decoder.next() }
    }

    @Test func argumentThatIsNotUTF8() {
        var bytes = Array("DIST00000001ARGC00000001ARGV00000002".utf8)
        bytes += [0xc3, 0x28]
        var decoder = RequestDecoder()
        decoder.append(bytes)
        #expect(throws: WireError.badArgument(index: 1, reason: "is not valid UTF-8")) { try decoder.next() }
    }

    /// Stock distcc closes after the ARGVs when preprocessing fails: a truncation, reported as such.
    @Test func streamEndingAfterArguments() throws {
        var decoder = RequestDecoder()
        decoder.append(WireEncoder.requestHead(request).dropLast(FrameHeaderSize.doti))
        #expect(try decoder.next() == nil)
        #expect(throws: WireError.truncated(expecting: "the preprocessed source (DOTI)", bufferedBytes: 0)) {
            try decoder.finish()
        }
    }

    @Test func streamEndingInsideTheSource() throws {
        var decoder = RequestDecoder()
        decoder.append(WireEncoder.encode(request).dropLast(2))
        #expect(try decoder.next() == nil)
        #expect(throws: WireError.truncated(expecting: "7 bytes of preprocessed source (DOTI)", bufferedBytes: 5)) {
            try decoder.finish()
        }
    }

    @Test func cleanEndBetweenRequests() throws {
        var decoder = RequestDecoder()
        try decoder.finish()
        decoder.append(WireEncoder.encode(request))
        _ = try decoder.next()
        try decoder.finish()
    }
}

/// The DOTI header's size, for cutting a request just before it.
enum FrameHeaderSize {
    static let doti = FrameHeader.size
}
