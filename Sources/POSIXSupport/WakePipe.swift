// A pipe that one thread rings to wake another thread's poll. Ringing and closing share a lock, so a ring
// that comes after the close writes nowhere (the descriptor number may already belong to another file).

#if canImport(Glibc)
    import Glibc
#endif

public final class WakePipe: @unchecked Sendable {
    private let lock = Monitor()
    /// Both ends, until closed.
    private var ends: PipeEnds?

    /// Nil when no pipe could be made (out of descriptors).
    public init?() {
        guard let ends = try? FileDescriptorIO.pipe() else { return nil }
        ends.read.setBlocking(false)
        ends.write.setBlocking(false)
        self.ends = consume ends
    }

    /// Its read end, polled for readable (nothing once closed).
    public var pollEntry: Poll.Entry {
        lock.withLock { ends?.read.number }.map { Poll.Entry(number: $0, .readable) } ?? .nothing
    }

    public func ring() {
        lock.withLock {
            var byte: UInt8 = 1
            if let fd = ends?.write.number { _ = write(fd, &byte, 1) }
        }
    }

    /// Empties the pipe after a wake-up.
    public func drain() {
        lock.withLock {
            guard let fd = ends?.read.number else { return }
            var bytes = [UInt8](repeating: 0, count: 256)
            while read(fd, &bytes, bytes.count) > 0 {}
        }
    }

    public func close() { lock.withLock { ends = nil } }
}
