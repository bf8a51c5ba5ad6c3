// What the daemon makes of one wrapper connection's bytes, in order: the wrapper's version line, its one
// request, and for a job the source that follows (JOBC pieces, then JOBS). Pure: bytes in, events out; the
// daemon's connection handler performs them. Anything else on the connection is a protocol error — except
// from a wrapper of another version, whose frames this daemon may not know: it hears that it is another
// version (or, for STOP, which every version understands, that it is to stop), so that it can replace us.

public struct WrapperIntake {
    public enum Event: Equatable, Sendable {
        /// The request is complete; `peerVersion` is the wrapper's version line.
        case request(WrapperRequest, peerVersion: String)
        /// A piece of the job's source; `last` ends it.
        case piece([UInt8], last: Bool)
        /// A wrapper of another version asked something this daemon does not serve.
        case otherVersion(String)
    }

    private enum Stage {
        case request
        case source
        case done
        /// Another version's wrapper was told so: what else it sends is not read.
        case refused
    }

    private var inbox = MuxInbox()
    private var stage = Stage.request
    private let version: String

    /// `version`: this daemon's version line.
    public init(version: String) { self.version = version }

    /// True once the request, and for a job its whole source, has arrived: more bytes are a protocol error.
    public var isComplete: Bool {
        if case .done = stage { return true }
        return false
    }

    public mutating func receive(_ bytes: some Sequence<UInt8>) throws(MuxWireError) -> [Event] {
        if case .refused = stage { return [] }
        do {
            return try read(bytes)
        } catch {
            guard case .request = stage, let peer = inbox.peerVersion, peer != version else { throw error }
            stage = .refused
            return [.otherVersion(peer)]
        }
    }

    private mutating func read(_ bytes: some Sequence<UInt8>) throws(MuxWireError) -> [Event] {
        try inbox.receive(bytes)
        var events: [Event] = []
        while true {
            switch stage {
            case .refused: return events
            case .done:
                guard inbox.frames.isEmpty else { throw .unexpected(inbox.frames[0].kind, expecting: "nothing more") }
                return events
            case .request:
                guard let peer = inbox.peerVersion, let request = try MuxCodec.request(from: inbox.frames) else {
                    return events
                }
                let used = inbox.frames.firstIndex { [.jobArguments, .statusQuery, .stop].contains($0.kind) }! + 1
                inbox.dropFrames(before: used)
                guard request == .stop || peer == version else {
                    stage = .refused
                    return events + [.otherVersion(peer)]
                }
                events.append(.request(request, peerVersion: peer))
                if case .job = request { stage = .source } else { stage = .done }
            case .source:
                guard let frame = inbox.frames.first else { return events }
                inbox.dropFrames(before: 1)
                switch frame.kind {
                case .jobPiece: events.append(.piece(frame.body, last: false))
                case .jobSource:
                    events.append(.piece(frame.body, last: true))
                    stage = .done
                default: throw .unexpected(frame.kind, expecting: "JOBC or JOBS after JOBA")
                }
            }
        }
    }
}
