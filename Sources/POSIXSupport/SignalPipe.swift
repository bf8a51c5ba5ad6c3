// Signals as bytes on a pipe, so that a poll loop hears them without races: the one way sshccd learns of
// SIGTERM and the mux daemon of SIGTERM, SIGINT and SIGHUP. The handler only writes a byte.

import CPOSIX

#if canImport(Glibc)
    import Glibc
#endif

/// The read end of the process's signal pipe.
public struct SignalPipe: Sendable {
    /// The process's one signal pipe: never closed, so held by number.
    private let readEnd: Int32

    /// Its read end, polled for readable.
    public var pollEntry: Poll.Entry { Poll.Entry(number: readEnd, .readable) }

    public enum Signal: Sendable {
        case terminate, interrupt, hangUp
        var number: Int32 {
            switch self {
            case .terminate: SIGTERM
            case .interrupt: SIGINT
            case .hangUp: SIGHUP
            }
        }
    }

    /// A pipe of the caller's in place of the signal pipe (a test rings it); the caller keeps it open.
    public init(standIn readEnd: borrowing FileDescriptor) { self.readEnd = readEnd.number }

    private init(readEnd: Int32) { self.readEnd = readEnd }

    /// Installs the handler for `signals` (once per process); nil when that failed.
    public static func install(_ signals: [Signal]) -> SignalPipe? {
        let numbers = signals.map(\.number)
        let fd = numbers.withUnsafeBufferPointer { sshcc_signal_pipe($0.baseAddress, Int32($0.count)) }
        return fd >= 0 ? SignalPipe(readEnd: fd) : nil
    }

    /// Wakes the loop as a signal would (a stop asked for over a socket).
    public func ring() { sshcc_signal_pipe_ring() }
}
