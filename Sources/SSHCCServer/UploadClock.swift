// Times a request's source as it arrives, for the client's estimate of its link's upload rate (reported in
// the reply's load: `upload-bytes`, `upload-us`). The first read that brings source bytes starts the clock and
// is not counted (its bytes were on their way before it); every later read counts, up to the last. A source
// that came in one read says nothing. Pure.

struct UploadClock {
    private var firstAt: UInt64?
    private var lastAt: UInt64 = 0
    private var bytes = 0

    /// A read at `now` (ns) brought `count` bytes of the source.
    mutating func read(_ count: Int, at now: UInt64) {
        guard count > 0 else { return }
        guard firstAt != nil else {
            firstAt = now
            return
        }
        bytes += count
        lastAt = now
    }

    /// Bytes after the first read, and microseconds from it to the last; nil when one read brought it all.
    var figures: (bytes: Int, microseconds: Int)? {
        guard let firstAt, bytes > 0, lastAt > firstAt else { return nil }
        return (bytes, Int((lastAt - firstAt) / 1000))
    }
}
