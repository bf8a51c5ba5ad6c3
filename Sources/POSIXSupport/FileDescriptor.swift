// An open descriptor as a value that owns it. Noncopyable: one owner closes it, once, when the value ends
// (or gives it away with `release`), so a number can neither leak nor be closed twice and then name a file
// another thread has since opened. Calls that only use a descriptor borrow it; a poll entry or a child's
// standard stream takes its number for as long as the owner keeps it open.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public struct FileDescriptor: ~Copyable {
    /// The kernel's number, for a call made while this value lives.
    public let number: Int32

    /// Takes ownership of `number` (open, not owned elsewhere).
    public init(owning number: Int32) {
        precondition(number >= 0, "not an open descriptor: \(number)")
        self.number = number
    }

    /// Takes ownership of what a call that opens a descriptor returned, or throws its failure.
    public init(_ operation: String, path: String? = nil, _ call: () -> Int32) throws(SystemError) {
        self.init(owning: try SystemError.check(operation, path: path, call))
    }

    deinit { _ = Glibc.close(number) }

    /// Closes it now (a reader then sees end of file at once, not when the owner ends).
    public consuming func close() {}

    /// Gives the number up without closing it: whoever takes it closes it (or the process's exit does).
    public consuming func release() -> Int32 {
        let number = number
        discard self
        return number
    }

    /// Stays open across exec (a compiler that inherits it holds what it stands for until it exits).
    public func inheritOnExec() { _ = fcntl(number, F_SETFD, 0) }

    /// Reads and writes no longer wait: they fail with EAGAIN instead (`blocking` false), or wait again.
    public func setBlocking(_ blocking: Bool) {
        let flags = fcntl(number, F_GETFL)
        _ = fcntl(number, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK)
    }
}

/// The two ends of a pipe, each owned.
/// Frozen, so that an owner in another module can take the ends apart.
@frozen public struct PipeEnds: ~Copyable {
    public var read: FileDescriptor
    public var write: FileDescriptor
}

/// A process's standard streams, which it never closes: written to and polled by number.
public enum StandardStream: Int32, Sendable {
    case input = 0, output = 1, error = 2
}
