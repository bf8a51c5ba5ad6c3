// A pipe that one thread rings to wake another thread's poll. Ringing and closing share a lock, so a ring
// that comes after the close writes nowhere (the descriptor number may already belong to another file).

import CPOSIX

#if canImport(Glibc)
    import Glibc
#endif

public final class WakePipe: @unchecked Sendable {
    private let lock = Monitor()
    private var readEnd: Int32
    private var writeEnd: Int32

    /// Nil when no pipe could be made (out of descriptors).
    public init?() {
        var ends: [Int32] = [-1, -1]
        guard sshcc_pipe_cloexec(&ends) == 0 else { return nil }
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        (readEnd, writeEnd) = (ends[0], ends[1])
    }

    deinit { close() }

    /// The end to poll for POLLIN (-1 once closed).
    public var pollDescriptor: Int32 { lock.withLock { readEnd } }

    public func ring() {
        lock.withLock {
            var byte: UInt8 = 1
            if writeEnd >= 0 { _ = write(writeEnd, &byte, 1) }
        }
    }

    /// Empties the pipe after a wake-up.
    public func drain() {
        lock.withLock {
            var bytes = [UInt8](repeating: 0, count: 256)
            while readEnd >= 0 && read(readEnd, &bytes, bytes.count) > 0 {}
        }
    }

    public func close() {
        lock.withLock {
            for end in [readEnd, writeEnd] where end >= 0 { Glibc.close(end) }
            (readEnd, writeEnd) = (-1, -1)
        }
    }
}
