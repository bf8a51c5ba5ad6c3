// A mutex with a condition variable (pthread), for the mux daemon's threads: the scheduler's state, a
// job's one-shot result, a host driver's inbox. Swift's standard library has a Mutex but no condition.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A lock and a condition; `wait` must be called inside `withLock`.
public final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Releases the lock until `broadcast` or the deadline (monotonic nanoseconds), then retakes it.
    public func wait(until deadline: UInt64? = nil) {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return
        }
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &time)
    }

    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// A value set once by one thread and awaited by another.
public final class OneShot<Value: Sendable>: @unchecked Sendable {
    private let monitor = Monitor()
    private var value: Value?

    public init() {}

    private var onFulfil: (@Sendable () -> Void)?

    /// Sets the value if none was set yet; later calls are ignored (first result wins).
    public func fulfil(_ newValue: Value) {
        let callback = monitor.withLock {
            if value == nil { value = newValue }
            monitor.broadcast()
            return onFulfil
        }
        callback?()
    }

    /// Calls `callback` once the value is set (at once if it is): for a thread that polls descriptors while it
    /// waits, the callback can make one of them readable.
    public func whenFulfilled(_ callback: @escaping @Sendable () -> Void) {
        let now = monitor.withLock {
            onFulfil = callback
            return value != nil
        }
        if now { callback() }
    }

    public func wait() -> Value {
        monitor.withLock {
            while value == nil { monitor.wait() }
            return value!
        }
    }
}
