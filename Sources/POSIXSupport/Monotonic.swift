// Monotonic time: durations and deadlines that wall-clock changes cannot disturb.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum Monotonic {
    /// Nanoseconds on the monotonic clock.
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    public static func milliseconds(since start: UInt64) -> Int { Int((nanoseconds() - start) / 1_000_000) }
}

/// A point in monotonic time by which an operation must finish.
public struct Deadline: Sendable {
    public let nanoseconds: UInt64

    public init(secondsFromNow seconds: Double) {
        nanoseconds = Monotonic.nanoseconds() + UInt64(max(0, seconds) * 1e9)
    }

    /// Milliseconds left, for poll(); 0 once passed.
    public var remainingMilliseconds: Int32 {
        let now = Monotonic.nanoseconds()
        guard nanoseconds > now else { return 0 }
        return Int32(min(UInt64(Int32.max), (nanoseconds - now + 999_999) / 1_000_000))
    }
}
