// A swift-log handler that appends one line per message to a private log file. sshd discards a subsystem's
// stderr, so the file is the server's only voice. Lines carry a UTC timestamp and the process id.
// Much of what sshccd logs comes from a client (its arguments, its mistakes), so every line is escaped (one
// message is one line: no forged lines, no terminal escapes) and cut at a length, each process may write only
// so many lines in a burst, and the file is rotated once it passes a size: a client can neither forge the log
// nor fill the disk with it.

import Logging
import POSIXSupport

/// What one process may make its log hold.
public struct LogBounds: Sendable {
    /// Bytes of one message (longer ones are cut, saying how much was left out).
    public var messageBytes = 1024
    /// Lines a process may write at once; refilled at `linesPerSecond`.
    public var burstLines = 200.0
    public var linesPerSecond = 20.0
    /// Past this size the file is renamed to `PATH.old` (replacing the one before) and started again.
    public var fileBytes = 32 << 20

    public init() {}
}

/// Appends log lines to a file opened with O_APPEND (lines from concurrent sshccd processes do not mix).
public struct FileLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let file: LogFile
    private let label: String

    /// Opens (creating with mode 0600, and its directory with 0700) the log file; falls back to stderr.
    public init(label: String, path: String, bounds: LogBounds = LogBounds()) {
        self.label = label
        file = LogFile(path: path, bounds: bounds)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = "\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        }
        let line =
            "\(Self.timestamp()) \(label)[\(CurrentProcess.id)] \(event.level): \(Self.escaped(text, limit: file.bounds.messageBytes))"
        file.append(line)
    }

    /// `text` on one line: control bytes and backslashes as `\xNN`, cut after `limit` bytes. UTF-8 text stays.
    static func escaped(_ text: String, limit: Int) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > limit || bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0x5C }) else {
            return text
        }
        var out: [UInt8] = []
        for byte in bytes.prefix(limit) {
            if byte < 0x20 || byte == 0x7F || byte == 0x5C {
                let hex = Array(String(byte, radix: 16).utf8)
                out += Array("\\x".utf8) + (hex.count == 1 ? [UInt8(ascii: "0")] : []) + hex
            } else {
                out.append(byte)
            }
        }
        var result = String(decoding: out, as: UTF8.self)
        if bytes.count > limit { result += "…(\(bytes.count - limit) more bytes)" }
        return result
    }

    /// `2026-11-22T09:15:02.123Z`
    static func timestamp() -> String { WallClock.timestamp() }

    static func makeParentDirectory(of path: String) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let parent = String(path[..<slash])
        if Files.exists(parent) { return }
        makeParentDirectory(of: parent)
        try? Files.makeDirectory(parent, mode: 0o700)
    }
}

/// The open log file of one process, with its line budget and the rotation check.
final class LogFile: @unchecked Sendable {
    let path: String
    let bounds: LogBounds
    private let lock = Monitor()
    /// The file; nil: it could not be opened, and lines go to stderr.
    private var file: FileDescriptor?
    private var tokens: Double
    private var refilled = Monotonic.nanoseconds()
    private var dropped = 0

    init(path: String, bounds: LogBounds) {
        self.path = path
        self.bounds = bounds
        tokens = bounds.burstLines
        FileLogHandler.makeParentDirectory(of: path)
        file = AppendFile.open(path)
    }

    func append(_ line: String) {
        lock.withLock {
            let now = Monotonic.nanoseconds()
            tokens = min(bounds.burstLines, tokens + Double(now - refilled) / 1e9 * bounds.linesPerSecond)
            refilled = now
            guard tokens >= 1 else {
                dropped += 1
                return
            }
            tokens -= 1
            var text = line + "\n"
            if dropped > 0 {
                text =
                    "(\(dropped) log lines of this process were dropped: more than \(Int(bounds.linesPerSecond)) a second)\n"
                    + text
                dropped = 0
            }
            rotateIfFull()
            switch file {
            case .some(let file): try? FileDescriptorIO.writeAll(file, Array(text.utf8))
            case .none: try? FileDescriptorIO.writeAll(.error, Array(text.utf8))
            }
        }
    }

    /// Renames a file past its size to `PATH.old` and starts a new one (another process may have done it:
    /// then the file at `path` is simply reopened).
    private func rotateIfFull() {
        guard file != nil, let state = AppendFile.state(file!), state.size >= bounds.fileBytes || !state.linked else {
            return
        }
        if Files.identity(path) == state.identity { AppendFile.rename(path, to: path + ".old") }
        guard let reopened = AppendFile.open(path) else { return }
        file = consume reopened
    }
}
