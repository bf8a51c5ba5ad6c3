// Runs a blocking piece of a test (a build) on its own thread while the test acts on the world (kills a
// host mid-build), then collects its result.

import Foundation

public final class Background<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: Value?

    public init(_ body: @escaping @Sendable () -> Value) {
        let thread = Thread { [self] in
            value = body()
            done.signal()
        }
        thread.start()
    }

    public func wait() -> Value {
        done.wait()
        return value!
    }
}

/// Polls `condition` every 20 ms for up to `seconds`; true once it holds. For waiting on other
/// processes, never for asserting how fast something is.
public func eventually(within seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
