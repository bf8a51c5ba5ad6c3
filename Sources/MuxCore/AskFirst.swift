// Whether a job asks a host for its result by the source's digest before sending the source (protocol 7). A
// question answered from the server's object cache saves the upload; one the cache cannot answer costs a round
// trip before the source goes (and the server's compile starts that much later). So a job asks when
//     hit rate × upload time  >  (1 − hit rate) × round trip
// with each of the three learned per host from what its link has done: the round trips of load questions and
// of questions answered `NEED`, the rate at which sources arrived at the server (it says so in each reply's
// load; until it has, the rate replies came down at stands in), and which replies came from the cache. Until
// all three are known nothing asks. Pure.

public struct AskFirst: Equatable, Sendable {
    /// `SSHCC_ASK`: `auto` decides per link and job; `always` and `never` are for measuring and for links the
    /// estimate gets wrong (an asymmetric line).
    public enum Mode: String, Sendable, CaseIterable {
        case auto, always, never
    }

    /// Seconds of one round trip to the server and back through sshccd.
    public private(set) var roundTrip: Double?
    /// Bytes per second sources arrived at the server, and replies' bodies here, once one was long enough to
    /// tell. The first is the one that matters (a line's upload may be slower than its download).
    public private(set) var uploadRate: Double?
    public private(set) var downloadRate: Double?
    /// The link's rate for a source: its upload's, else its download's.
    public var bytesPerSecond: Double? { uploadRate ?? downloadRate }
    /// The share of recent jobs the server's object cache answered; nil until a reply said (a server without a
    /// cache never does).
    public private(set) var hitRate: Double?

    /// A transfer shorter than this says more about packet timing than about the link.
    public static let shortestTransfer = 16 * 1024
    /// How far each new sample moves an estimate (the first one sets it).
    static let weight = 0.25

    public init() {}

    public mutating func heardRoundTrip(seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        roundTrip = Self.moved(roundTrip, to: seconds)
    }

    /// A reply's `bytes` arrived in `seconds`, counted from its first read (its bytes not included) to its last.
    public mutating func heardTransfer(bytes: Int, seconds: Double) {
        guard bytes >= Self.shortestTransfer, seconds > 0, seconds.isFinite else { return }
        downloadRate = Self.moved(downloadRate, to: Double(bytes) / seconds)
    }

    /// The server says a source's `bytes` arrived in `seconds` (counted in the same way, on its side).
    public mutating func heardUpload(bytes: Int, seconds: Double) {
        guard bytes >= Self.shortestTransfer, seconds > 0, seconds.isFinite else { return }
        uploadRate = Self.moved(uploadRate, to: Double(bytes) / seconds)
    }

    /// A reply said whether it came from the object cache (nil: the server keeps none, or did not say).
    public mutating func heardReply(cacheHit: Bool?) {
        guard let cacheHit else { return }
        hitRate = Self.moved(hitRate, to: cacheHit ? 1 : 0)
    }

    /// Whether any job may ask first: what `asks` needs is known and the server's cache has answered some.
    /// Where none may, a job's source goes as it always did (in pieces while the wrapper preprocesses).
    public func mayAsk(mode: Mode) -> Bool {
        switch mode {
        case .always: true
        case .never: false
        case .auto: roundTrip != nil && bytesPerSecond != nil && (hitRate ?? 0) > 0
        }
    }

    /// Whether a job whose source travels as `compressedBytes` asks first.
    public func asks(compressedBytes: Int, mode: Mode) -> Bool {
        switch mode {
        case .always: return true
        case .never: return false
        case .auto:
            guard let roundTrip, let bytesPerSecond, let hitRate, hitRate > 0 else { return false }
            return hitRate * Double(compressedBytes) / bytesPerSecond > (1 - hitRate) * roundTrip
        }
    }

    /// Whether a job keeps its source's pieces back until the source is whole (a question needs the whole
    /// source's digest): only when a source as large as a piece would ask. The pieces of other hosts' jobs go
    /// ahead while the wrapper still preprocesses.
    public func holdsPieces(mode: Mode) -> Bool {
        asks(compressedBytes: Self.shortestTransfer, mode: mode)
    }

    private static func moved(_ estimate: Double?, to sample: Double) -> Double {
        guard let estimate else { return sample }
        return estimate + weight * (sample - estimate)
    }
}
