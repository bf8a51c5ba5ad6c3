// Detached OS threads (pthreads). The mux daemon blocks in poll() and accept(); doing that on Swift's
// cooperative pool (2 threads on 2 cores) would starve it, so those loops get threads of their own.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum Threads {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread with a small stack. Signals stay blocked there; the main
    /// thread handles them.
    public static func spawn(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        var thread = pthread_t()
        let result = pthread_create(
            &thread, &attributes,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
    }
}

/// Moves a non-Sendable value to the thread that will own it from now on.
public struct Handover<Value>: @unchecked Sendable {
    public let value: Value
    public init(value: Value) { self.value = value }
}

/// Moves an owned value (a descriptor) to the thread that will own it from now on: that thread takes it
/// once; if it never does, the value ends with the handover.
public final class OwnedHandover<Value: ~Copyable>: @unchecked Sendable {
    private var value: Value?
    public init(_ value: consuming Value) { self.value = consume value }
    public func take() -> Value { value.take()! }
}
