// The wrapper ↔ mux daemon wire (Docs/mux-protocol.md): every frame is a 4-letter kind, 8 hex digits of
// body length, and the body (distcc's header layout, FrameHeader). Pure codec, no sockets. The job travels
// as its fields (arguments, source, and back status, messages, object): the distcc wire is the daemon's.

import DistccWire

/// The kinds of frame. Wrapper → daemon: MUXV, HOST, HSRC, IDEN, KNWN, AGNT, SCFG, CTMO, IOTM, JOBA, JOBC…, JOBS,
/// STAQ, STOP. Daemon → wrapper: MUXV, VERR, NOTE, RHST, RSTA, RERR, ROUT, ROBJ, LOCL, FAIL, STAT, BYE_.
public enum MuxKind: String, Sendable, CaseIterable {
    case version = "MUXV", versionRefused = "VERR"
    /// The host list, and where it came from (HSRC: SSHCC_HOSTS or the file, for warnings about its lines).
    case hostList = "HOST", hostListSource = "HSRC", identity = "IDEN", knownHosts = "KNWN", agentSocket = "AGNT",
        sshConfig = "SCFG"
    case connectTimeout = "CTMO", ioTimeout = "IOTM", statusQuery = "STAQ", stop = "STOP"
    /// A job: its command line (JOBA, sent before the wrapper preprocesses), then its source in pieces as
    /// the preprocessor writes it (JOBC), the last piece in JOBS.
    case jobArguments = "JOBA", jobPiece = "JOBC", jobSource = "JOBS", toolchain = "TOOL"
    case note = "NOTE", compiledOn = "RHST", runLocally = "LOCL", failure = "FAIL"
    /// The compile's result: its wait status, stderr, stdout and object (the object ends the answer).
    case resultStatus = "RSTA", resultStderr = "RERR", resultStdout = "ROUT", resultObject = "ROBJ"
    case status = "STAT", stopping = "BYE_"
}

/// One frame: its kind and body.
public struct MuxFrame: Equatable, Sendable {
    public var kind: MuxKind
    public var body: [UInt8]

    public init(_ kind: MuxKind, _ body: [UInt8] = []) {
        self.kind = kind
        self.body = body
    }

    public init(_ kind: MuxKind, text: String) { self.init(kind, Array(text.utf8)) }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Header and body, ready to write.
    public var encoded: [UInt8] {
        var out = Self.header(kind, count: body.count)
        out.append(contentsOf: body)
        return out
    }

    /// A 12-byte header for a body of `count` bytes, so large bodies can be written from their own buffer.
    public static func header(_ kind: MuxKind, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(FrameHeader.size)
        FrameHeader.append(kind.rawValue.utf8, UInt32(count), to: &out)
        return out
    }
}

/// What was wrong with bytes that claimed to be mux frames.
public enum MuxWireError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownKind([UInt8])
    case badLength([UInt8])
    case tooLong(kind: MuxKind, length: Int, limit: Int)
    case unexpected(MuxKind, expecting: String)
    case badValue(MuxKind, String)
    case truncated

    public var description: String {
        switch self {
        case .unknownKind(let bytes): "unknown mux frame kind \(Self.printable(bytes))"
        case .badLength(let bytes): "bad mux frame length \(Self.printable(bytes))"
        case .tooLong(let kind, let length, let limit): "\(kind.rawValue) frame of \(length) bytes (limit \(limit))"
        case .unexpected(let kind, let expecting): "unexpected \(kind.rawValue) frame, expecting \(expecting)"
        case .badValue(let kind, let value): "bad \(kind.rawValue) value '\(value)'"
        case .truncated: "the mux connection ended in the middle of a message"
        }
    }

    static func printable(_ bytes: [UInt8]) -> String {
        "'" + String(bytes.map { $0 >= 0x20 && $0 < 0x7f ? Character(UnicodeScalar($0)) : "?" }) + "'"
    }
}

/// Incremental frame reader: `append` bytes, then `next()` until it returns nil ("need more").
public struct MuxReader {
    /// Large enough for a 512 MiB object plus messages (DistccWire's limits), small enough to refuse nonsense.
    public static let maximumBody = 1 << 30
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    public var isEmpty: Bool { start == buffer.count }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() throws(MuxWireError) -> MuxFrame? {
        guard buffer.count - start >= 12 else { return nil }
        let kindBytes = Array(buffer[start..<start + 4])
        guard let kind = MuxKind(rawValue: String(decoding: kindBytes, as: UTF8.self)) else {
            throw .unknownKind(kindBytes)
        }
        guard let value = FrameHeader.value(buffer[start + 4..<start + 12]) else {
            throw .badLength(Array(buffer[start + 4..<start + 12]))
        }
        let length = Int(value)
        guard length <= Self.maximumBody else { throw .tooLong(kind: kind, length: length, limit: Self.maximumBody) }
        guard buffer.count - start - 12 >= length else { return nil }
        let body = Array(buffer[start + 12..<start + 12 + length])
        start += 12 + length
        return MuxFrame(kind, body)
    }
}

/// One side's view of a conversation: the peer's version line (its first frame), then its other frames.
/// Both the wrapper and the daemon read through this, so both apply the same first-frame rule.
public struct MuxInbox {
    private var reader = MuxReader()
    public private(set) var peerVersion: String?
    public private(set) var frames: [MuxFrame] = []

    public init() {}

    public mutating func receive(_ bytes: some Sequence<UInt8>) throws(MuxWireError) {
        reader.append(bytes)
        while let frame = try reader.next() {
            guard peerVersion != nil else {
                guard frame.kind == .version else { throw .unexpected(frame.kind, expecting: "MUXV") }
                peerVersion = frame.text
                continue
            }
            frames.append(frame)
        }
    }

    /// Forgets frames already handled (a job's source pieces, once handed on), so they are not held twice.
    public mutating func dropFrames(before index: Int) { frames.removeFirst(min(index, frames.count)) }
}
