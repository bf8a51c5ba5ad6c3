// When a job asks for its result before sending its source: only once the link's round trip, rate and the
// server's hit rate are known, and then when the expected upload saved outweighs the expected round trip lost.

import MuxCore
import Testing

@Suite struct AskFirstTests {
    /// A 20 ms round trip at 20 Mbit/s (2.5 MB/s) to a server whose cache answered `hits` of 4 jobs.
    static func link(hits: Int) -> AskFirst {
        var link = AskFirst()
        link.heardRoundTrip(seconds: 0.020)
        link.heardTransfer(bytes: 250_000, seconds: 0.1)
        for index in 0..<4 { link.heardReply(cacheHit: index < hits) }
        return link
    }

    @Test func nothingAsksUntilTheLinkAndTheCacheAreKnown() {
        var link = AskFirst()
        #expect(!link.asks(compressedBytes: 10_000_000, mode: .auto) && !link.mayAsk(mode: .auto))
        #expect(link.mayAsk(mode: .always) && !Self.link(hits: 4).mayAsk(mode: .never))
        link.heardRoundTrip(seconds: 0.020)
        link.heardReply(cacheHit: true)
        #expect(!link.asks(compressedBytes: 10_000_000, mode: .auto), "no rate known")
        link.heardTransfer(bytes: 4_000, seconds: 0.1)
        #expect(link.bytesPerSecond == nil, "a short reply says nothing of the rate")
        link.heardTransfer(bytes: 250_000, seconds: 0.1)
        #expect(link.asks(compressedBytes: 100_000, mode: .auto) && link.mayAsk(mode: .auto))
        // A server without a cache never says: its replies change nothing.
        var plain = AskFirst()
        plain.heardRoundTrip(seconds: 0.020)
        plain.heardTransfer(bytes: 250_000, seconds: 0.1)
        plain.heardReply(cacheHit: nil)
        #expect(plain.hitRate == nil && !plain.asks(compressedBytes: 10_000_000, mode: .auto))
    }

    @Test func aJobAsksWhenTheUploadItMaySaveOutweighsTheRoundTripItMayLose() {
        // Every job a hit: any source asks (a hit costs the same round trip either way).
        let warm = Self.link(hits: 4)
        #expect(warm.hitRate == 1 && warm.asks(compressedBytes: 1, mode: .auto))
        // Never a hit: nothing asks.
        let cold = Self.link(hits: 0)
        #expect(cold.hitRate == 0 && !cold.asks(compressedBytes: 100_000_000, mode: .auto) && !cold.mayAsk(mode: .auto))
        // Half and half (the estimate moves a quarter per job: the last ones weigh most).
        var even = AskFirst()
        even.heardRoundTrip(seconds: 0.020)
        even.heardTransfer(bytes: 250_000, seconds: 0.1)
        even.heardReply(cacheHit: true)
        even.heardReply(cacheHit: false)
        even.heardReply(cacheHit: false)
        let rate = try! #require(even.hitRate)
        // Break-even upload: (1 − p) / p × 20 ms at 2.5 MB/s.
        let breakEven = (1 - rate) / rate * 0.020 * 2_500_000
        #expect(!even.asks(compressedBytes: Int(breakEven * 0.9), mode: .auto))
        #expect(even.asks(compressedBytes: Int(breakEven * 1.1), mode: .auto))
        // Pieces are held back only where a piece-sized source would ask.
        #expect(warm.holdsPieces(mode: .auto) && !cold.holdsPieces(mode: .auto))
    }

    /// The server's figure for sources coming up wins over the rate replies came down at (a line's upload may
    /// be a tenth of its download).
    @Test func theUploadRateTheServerMeasuredIsTheOneUsed() {
        var link = Self.link(hits: 2)  // replies came down at 2.5 MB/s
        #expect(link.bytesPerSecond == 2_500_000)
        let bytes = 30_000
        #expect(
            !link.asks(compressedBytes: bytes, mode: .auto),
            "12 ms of upload saved at a 56 % hit rate < 20 ms lost at 44 %")
        link.heardUpload(bytes: 25_000, seconds: 0.1)  // 250 kB/s up
        #expect(link.bytesPerSecond == 250_000 && link.downloadRate == 2_500_000)
        #expect(link.asks(compressedBytes: bytes, mode: .auto), "120 ms of upload saved at 56 %")
        link.heardUpload(bytes: 1_000, seconds: 0.1)
        #expect(link.uploadRate == 250_000, "a short upload says nothing")
    }

    @Test func theModeOverridesTheEstimate() {
        #expect(AskFirst().asks(compressedBytes: 1, mode: .always))
        #expect(!Self.link(hits: 4).asks(compressedBytes: 100_000_000, mode: .never))
        #expect(AskFirst.Mode(rawValue: "sometimes") == nil)
    }

    @Test func samplesMoveTheEstimatesAQuarter() {
        var link = AskFirst()
        link.heardRoundTrip(seconds: 0.040)
        link.heardRoundTrip(seconds: 0.020)
        #expect(abs(link.roundTrip! - 0.035) < 1e-9)
        link.heardRoundTrip(seconds: -1)
        link.heardRoundTrip(seconds: .nan)
        #expect(abs(link.roundTrip! - 0.035) < 1e-9, "nonsense is ignored")
    }
}
