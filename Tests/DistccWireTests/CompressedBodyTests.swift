// Compressed bodies ↔ BodyPacking.swift, WireCompression: protocol 2 (LZO1X), 4 and 5 (zstd) carry every
// body type compressed, empty bodies as zero bytes, and refuse corrupt or oversized compressed data with a
// protocol error that names the frame.

import DistccWire
import Testing
import WireCompression

@Suite struct CompressedBodyTests {
    static let versions: [DistccVersion] = [DistccVersion.lzo, DistccVersion.zstd, DistccVersion.zstdStreamed]
    /// Text like preprocessed C: compresses well.
    static let text = Array(
        (0..<3000).map { "static int f\($0)(int x) { return x * \($0 % 17) + 1; }\n" }.joined().utf8)
    /// Bytes that do not compress (a fixed pseudo-random sequence).
    static let noise: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<50_000).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }()
    static let bodies: [[UInt8]] = [[], Array("x".utf8), text, noise]

    static func header(_ token: String, _ value: Int) -> [UInt8] {
        Array((token + String(format: "%08x", value)).utf8)
    }

    @Test(arguments: versions)
    func requestsRoundTripEveryBody(version: DistccVersion) throws {
        for source in Self.bodies {
            let request = Request(version: version, arguments: ["gcc", "-c", "a.c", "-o", "a.o"], source: source)
            let bytes = WireEncoder.encode(request)
            var decoder = RequestDecoder()
            // Byte by byte: a compressed body is decoded only once it is whole.
            var decoded: [Request] = []
            for byte in bytes {
                decoder.append([byte])
                if let next = try decoder.next() { decoded.append(next) }
            }
            #expect(decoded == [request])
            try decoder.finish()
        }
    }

    @Test(arguments: versions)
    func repliesRoundTripEveryBody(version: DistccVersion) throws {
        for (stderr, stdout, object) in [([], [], []), (Self.text, [], Self.noise), ([], Self.text, Self.text)] {
            let reply = Reply(version: version, status: 0, stderr: stderr, stdout: stdout, object: object)
            var decoder = ReplyDecoder()
            decoder.append(WireEncoder.encode(reply))
            #expect(try decoder.next() == reply)
        }
    }

    /// The parameter is the compressed length; text shrinks to well under a quarter; empty stays empty.
    @Test(arguments: versions)
    func framesCarryTheCompressedLength(version: DistccVersion) throws {
        let reply = Reply(version: version, status: 0, stderr: [], stdout: [], object: Self.text)
        let bytes = WireEncoder.encode(reply)
        let doto = try #require(bytes.firstRange(of: Array("DOTO".utf8)))
        let length = Int(String(decoding: bytes[doto.upperBound..<doto.upperBound + 8], as: UTF8.self), radix: 16)!
        #expect(length == bytes.count - doto.lowerBound - 12)
        #expect(length < Self.text.count / 4)
        #expect(
            bytes.starts(
                with: Self.header("DONE", Int(version.rawValue)) + Self.header("STAT", 0) + Self.header("SERR", 0)
                    + Self.header("SOUT", 0)))
    }

    static func request(version: DistccVersion, body: [UInt8]) -> [UInt8] {
        Array("DIST0000000\(version)ARGC00000001".utf8) + header("ARGV", 3) + Array("gcc".utf8)
            + header("DOTI", body.count)
            + body
    }

    static func decodeRequest(_ bytes: [UInt8], limits: WireLimits = .default) throws(WireError) -> Request? {
        var decoder = RequestDecoder(limits: limits)
        decoder.append(bytes)
        return try decoder.next()
    }

    static func badBody(_ bytes: [UInt8], limits: WireLimits = .default) -> String? {
        do {
            _ = try decodeRequest(bytes, limits: limits)
            return nil
        } catch {
            guard case .badBody(.doti, let reason) = error else { return "wrong error: \(error)" }
            return reason
        }
    }

    @Test(arguments: versions)
    func corruptBodiesAreProtocolErrors(version: DistccVersion) throws {
        let packed = Array(
            WireEncoder.encode(Request(version: version, arguments: ["gcc"], source: Self.text))
                .dropFirst(Self.request(version: version, body: []).count))
        let garbage = Array("this is not compressed at all, just text".utf8)
        var damaged = [garbage, Array(packed.dropLast(7)), packed + [0, 1, 2]]
        if version != DistccVersion.lzo {
            // zstd frames carry a content checksum: any flipped byte is caught. LZO1X has none (see BodyCodecs).
            for offset in stride(from: 0, to: packed.count, by: max(1, packed.count / 40)) {
                var flipped = packed
                flipped[offset] ^= 0x5a
                damaged.append(flipped)
            }
        }
        for (index, body) in damaged.enumerated() {
            let reason = Self.badBody(Self.request(version: version, body: body)) ?? "decoded without error"
            #expect(reason.starts(with: "corrupt compressed data"), "damaged body \(index): \(reason)")
        }
    }

    /// A small body that would grow past the source limit is refused before or while decompressing.
    @Test(arguments: versions)
    func decompressionIsCappedByTheLimit(version: DistccVersion) throws {
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        let packed = Array(
            WireEncoder.encode(Request(version: version, arguments: ["gcc"], source: zeros))
                .dropFirst(Self.request(version: version, body: []).count))
        #expect(packed.count < 64 * 1024, "\(packed.count) bytes")
        var limits = WireLimits()
        limits.maxSourceLength = 1 << 20
        let reason = try #require(Self.badBody(Self.request(version: version, body: packed), limits: limits))
        #expect(reason.contains("over the limit of 1048576") || reason.contains("more than the limit of 1048576"))
        limits.maxSourceLength = 4 << 20
        #expect(try Self.decodeRequest(Self.request(version: version, body: packed), limits: limits)?.source == zeros)
    }

    /// A zstd frame that does not say how large it is (a streaming compressor's) is refused: sshcc's
    /// peers always record the size, and the cap is checked before any allocation.
    @Test func zstdFrameWithoutItsSizeIsRefused() throws {
        // Magic, frame header descriptor 0 (no content size, no checksum), window descriptor, one raw last block "hi".
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x48, 0x11, 0x00, 0x00] + Array("hi".utf8)
        #expect(throws: DecompressionError.corrupt("the zstd frame does not record its size")) {
            try Zstd.decompress(frame, limit: 100)
        }
    }
}
