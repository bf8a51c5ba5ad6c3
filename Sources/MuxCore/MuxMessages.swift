// The messages of the wrapper ↔ daemon conversation, built from frames and read back from them. A
// wrapper sends its version, then one request; the daemon answers with its version, then one answer.

import POSIXSupport

/// The mux protocol's version. Wrappers and daemons must agree on the whole version line.
public enum MuxVersion {
    public static let protocolNumber = 4
    /// "1 sshcc 0.1.0": protocol number and the build's version, compared as a whole.
    public static func line(build: String) -> String { "\(protocolNumber) sshcc \(build)" }
}

/// How the daemon reaches hosts on a wrapper's behalf: the wrapper's own key, known_hosts and agent.
public struct HostAccess: Hashable, Sendable {
    /// SSHCC_IDENTITY: the one key to log in with (the SSH configuration's identities otherwise).
    public var identity: String?
    /// SSHCC_KNOWN_HOSTS: the one known_hosts file to read (the configuration's files otherwise).
    public var knownHosts: String?
    public var agentSocket: String?
    /// SSHCC_CONNECT_TIMEOUT (the configuration's ConnectTimeout otherwise, else 10 s).
    public var connectTimeout: Double?
    public var ioTimeout: Double
    /// SSHCC_SSH_CONFIG: the file `ssh -F` reads instead of ~/.ssh/config and /etc/ssh/ssh_config.
    public var sshConfig: String?

    public init(
        identity: String?, knownHosts: String?, agentSocket: String?, connectTimeout: Double?, ioTimeout: Double,
        sshConfig: String? = nil
    ) {
        self.identity = identity
        self.knownHosts = knownHosts
        self.agentSocket = agentSocket
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
        self.sshConfig = sshConfig
    }

    /// The wrapper's settings, from its environment (README: SSHCC_IDENTITY, SSHCC_KNOWN_HOSTS,
    /// SSH_AUTH_SOCK, SSHCC_CONNECT_TIMEOUT, SSHCC_IO_TIMEOUT, SSHCC_SSH_CONFIG; empty counts as unset).
    public static func fromEnvironment() -> HostAccess {
        let value = { (name: String) in Environment.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        return HostAccess(
            identity: value("SSHCC_IDENTITY"), knownHosts: value("SSHCC_KNOWN_HOSTS"),
            agentSocket: value("SSH_AUTH_SOCK"),
            connectTimeout: value("SSHCC_CONNECT_TIMEOUT").flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil },
            ioTimeout: Environment.seconds("SSHCC_IO_TIMEOUT", default: 300), sshConfig: value("SSHCC_SSH_CONFIG"))
    }
}

/// One compile job as the wrapper hands it over.
public struct JobSubmission: Equatable, Sendable {
    /// The wrapper's host list text (SSHCC_HOSTS or the hosts file): the daemon serves every list.
    public var hostList: String
    public var access: HostAccess
    /// The distcc request, encoded (DIST … DOTI and the source); only up to its last ARGV when `sourceFollows`.
    public var request: [UInt8]
    /// The source comes later, in a JOBS frame: the wrapper sent the head before preprocessing.
    public var sourceFollows: Bool

    public init(hostList: String, access: HostAccess, request: [UInt8], sourceFollows: Bool = false) {
        self.hostList = hostList
        self.access = access
        self.request = request
        self.sourceFollows = sourceFollows
    }
}

/// What a wrapper asks.
public enum WrapperRequest: Equatable, Sendable {
    case job(JobSubmission)
    case status
    case stop
}

/// The daemon's answer to a job.
public enum JobAnswer: Equatable, Sendable {
    /// `host` compiled it; `reply` is the distcc reply as sshccd sent it.
    case reply(host: String, reply: [UInt8], notes: [String])
    /// A local slot is the wrapper's until it closes the connection: compile locally now.
    case runLocally(notes: [String])
    /// No host could take the job. `code` is an ExitCode value; the wrapper falls back unless forbidden.
    case failure(code: Int32, summary: String, details: [String], notes: [String])
}

/// Builds and parses the frames of each message.
public enum MuxCodec {
    // MARK: Wrapper side

    /// Frames for a job, after the version frame, up to the header of its JOBR (or JOBH) frame: the request
    /// (or head) is sent from its own buffer.
    public static func jobHead(_ job: JobSubmission, version: String) -> [UInt8] {
        var out = MuxFrame(.version, text: version).encoded
        out += MuxFrame(.hostList, text: job.hostList).encoded
        if let identity = job.access.identity { out += MuxFrame(.identity, text: identity).encoded }
        if let knownHosts = job.access.knownHosts { out += MuxFrame(.knownHosts, text: knownHosts).encoded }
        if let agent = job.access.agentSocket { out += MuxFrame(.agentSocket, text: agent).encoded }
        if let config = job.access.sshConfig { out += MuxFrame(.sshConfig, text: config).encoded }
        if let timeout = job.access.connectTimeout {
            out += MuxFrame(.connectTimeout, text: String(timeout)).encoded
        }
        out += MuxFrame(.ioTimeout, text: String(job.access.ioTimeout)).encoded
        out += MuxFrame.header(job.sourceFollows ? .jobHead : .job, count: job.request.count)
        return out
    }

    /// The frame header of a piece of the source that follows a JOBH (JOBC, or JOBS for the last piece);
    /// the piece is sent from its own buffer.
    public static func sourceHeader(count: Int, last: Bool = true) -> [UInt8] {
        MuxFrame.header(last ? .jobSource : .jobPiece, count: count)
    }

    /// Reads a job's answer from the frames after the daemon's version frame; nil until complete.
    public static func answer(from frames: [MuxFrame]) throws(MuxWireError) -> JobAnswer? {
        var notes: [String] = []
        var host: String?
        for frame in frames {
            switch frame.kind {
            case .note: notes.append(frame.text)
            case .compiledOn: host = frame.text
            case .reply: return .reply(host: host ?? "?", reply: frame.body, notes: notes)
            case .runLocally: return .runLocally(notes: notes)
            case .failure:
                let lines = frame.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                guard let code = lines.first.flatMap({ Int32($0) }), lines.count >= 2 else {
                    throw .badValue(.failure, frame.text)
                }
                return .failure(code: code, summary: lines[1], details: Array(lines.dropFirst(2)), notes: notes)
            default: throw .unexpected(frame.kind, expecting: "NOTE, RHST, RPLY, LOCL or FAIL")
            }
        }
        return nil
    }

    // MARK: Daemon side

    public static func encode(_ answer: JobAnswer) -> [UInt8] {
        var out: [UInt8] = []
        switch answer {
        case .reply(let host, let reply, let notes):
            for note in notes { out += MuxFrame(.note, text: note).encoded }
            out += MuxFrame(.compiledOn, text: host).encoded
            out += MuxFrame(.reply, reply).encoded
        case .runLocally(let notes):
            for note in notes { out += MuxFrame(.note, text: note).encoded }
            out += MuxFrame(.runLocally).encoded
        case .failure(let code, let summary, let details, let notes):
            for note in notes { out += MuxFrame(.note, text: note).encoded }
            let text = ([String(code), summary] + details).joined(separator: "\n")
            out += MuxFrame(.failure, text: text).encoded
        }
        return out
    }

    /// Reads a wrapper's request from the frames after its version frame; nil until complete.
    public static func request(from frames: [MuxFrame]) throws(MuxWireError) -> WrapperRequest? {
        var hostList = ""
        var access = HostAccess(identity: nil, knownHosts: nil, agentSocket: nil, connectTimeout: nil, ioTimeout: 300)
        for frame in frames {
            switch frame.kind {
            case .statusQuery: return .status
            case .stop: return .stop
            case .hostList: hostList = frame.text
            case .identity: access.identity = frame.text
            case .knownHosts: access.knownHosts = frame.text
            case .agentSocket: access.agentSocket = frame.text
            case .sshConfig: access.sshConfig = frame.text
            case .connectTimeout: access.connectTimeout = try seconds(frame)
            case .ioTimeout: access.ioTimeout = try seconds(frame)
            case .job: return .job(JobSubmission(hostList: hostList, access: access, request: frame.body))
            case .jobHead:
                return .job(JobSubmission(hostList: hostList, access: access, request: frame.body, sourceFollows: true))
            default: throw .unexpected(frame.kind, expecting: "a job, STAQ or STOP")
            }
        }
        return nil
    }

    static func seconds(_ frame: MuxFrame) throws(MuxWireError) -> Double {
        guard let value = Double(frame.text), value > 0, value < 1e6 else { throw .badValue(frame.kind, frame.text) }
        return value
    }
}
