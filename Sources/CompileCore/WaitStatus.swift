// A Unix wait status, as waitpid() returns it and distcc's STAT frame carries it, read in one place: the
// exit code, or the signal that ended the process.

public struct WaitStatus: Equatable, Sendable {
    public var rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The status of a normal exit with `code`.
    public static func exited(_ code: Int32) -> WaitStatus { WaitStatus((code & 0xff) << 8) }

    /// The exit code when the process exited normally, nil when a signal ended it.
    public var exitCode: Int32? { rawValue & 0x7f == 0 ? (rawValue >> 8) & 0xff : nil }
    /// The signal that ended the process, if one did.
    public var signal: Int32? {
        let signal = rawValue & 0x7f
        return signal != 0 && signal != 0x7f ? signal : nil
    }
    /// The status as a shell reports it: the exit code, or 128 + the signal.
    public var shellStatus: Int32 { exitCode ?? 128 + (signal ?? 0) }
}
