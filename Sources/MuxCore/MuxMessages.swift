// The messages of the wrapper ↔ daemon conversation, built from frames and read back from them. A
// wrapper sends its version, then one request; the daemon answers with its version, then one answer.

import CompileCore

/// The mux protocol's version. Wrappers and daemons must agree on the whole version line.
public enum MuxVersion {
    /// 5: the job travels as its fields (JOBA and the source; RSTA RERR ROUT ROBJ back), not as distcc bytes.
    /// 6: a job may carry the local toolchain's identity (TOOL). 7: a failure may say it was told (`CODE told`).
    /// 8: a status query may ask for JSON (STAQ `json`); a job may name where its host list came from (HSRC).
    public static let protocolNumber = 8
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

    /// The wrapper's settings, from its environment (`variable` looks one up; README: SSHCC_IDENTITY,
    /// SSHCC_KNOWN_HOSTS, SSH_AUTH_SOCK, SSHCC_CONNECT_TIMEOUT, SSHCC_IO_TIMEOUT, SSHCC_SSH_CONFIG; empty counts
    /// as unset, and so does a timeout that is not a positive number).
    public static func from(environment variable: (String) -> String?) -> HostAccess {
        func value(_ name: String) -> String? { variable(name).flatMap { $0.isEmpty ? nil : $0 } }
        func seconds(_ name: String) -> Double? { value(name).flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } }
        return HostAccess(
            identity: value("SSHCC_IDENTITY"), knownHosts: value("SSHCC_KNOWN_HOSTS"),
            agentSocket: value("SSH_AUTH_SOCK"), connectTimeout: seconds("SSHCC_CONNECT_TIMEOUT"),
            ioTimeout: seconds("SSHCC_IO_TIMEOUT") ?? 300, sshConfig: value("SSHCC_SSH_CONFIG"))
    }
}

/// One compile job as the wrapper hands it over; its source follows in JOBC and JOBS frames.
public struct JobSubmission: Equatable, Sendable {
    /// The wrapper's host list text (SSHCC_HOSTS or the hosts file): the daemon serves every list.
    public var hostList: String
    /// Where the list came from (`SSHCC_HOSTS`, a file's path), to name it in warnings about its lines.
    public var hostListSource: String?
    public var access: HostAccess
    /// The command line the server compiles, compiler name first.
    public var arguments: [String]
    /// The local compiler's toolchain identity (`DIGEST SUMMARY`, ToolchainIdentity.wire); nil when unknown:
    /// then no host's toolchain is checked.
    public var toolchain: String?

    public init(hostList: String, access: HostAccess, arguments: [String], toolchain: String? = nil) {
        self.hostList = hostList
        self.access = access
        self.arguments = arguments
        self.toolchain = toolchain
    }
}

/// What a wrapper asks.
public enum WrapperRequest: Equatable, Sendable {
    case job(JobSubmission)
    /// `json`: for scripts (`sshcc --status --json`), else text for people.
    case status(json: Bool)
    case stop
}

/// What the remote compile left: the compiler's wait status and messages, and the object it wrote.
public struct JobResult: Equatable, Sendable {
    public var status: WaitStatus
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// Empty when the compile failed.
    public var object: [UInt8]

    public init(status: WaitStatus, stdout: [UInt8] = [], stderr: [UInt8] = [], object: [UInt8] = []) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.object = object
    }
}

/// The daemon's answer to a job.
public enum JobAnswer: Equatable, Sendable {
    /// `host` compiled it (or, `fromCache`, answered it from its object cache).
    case compiled(host: String, result: JobResult, notes: [String], fromCache: Bool = false)
    /// A local slot is the wrapper's until it closes the connection: compile locally now.
    case runLocally(notes: [String])
    /// No host could take the job. `code` is an ExitCode value; the wrapper falls back unless forbidden.
    /// `alreadyTold`: an earlier job's wrapper printed this failure (a host down or refusing, during one
    /// backoff): falling back, this one stays quiet unless verbose.
    case failure(code: Int32, summary: String, details: [String], notes: [String], alreadyTold: Bool = false)
}

/// Builds and parses the frames of each message.
public enum MuxCodec {
    // MARK: Wrapper side

    /// The frames of a job up to its source: the version, the host list and settings, the command line.
    public static func jobHead(_ job: JobSubmission, version: String) -> [UInt8] {
        var out = MuxFrame(.version, text: version).encoded
        out += MuxFrame(.hostList, text: job.hostList).encoded
        if let source = job.hostListSource { out += MuxFrame(.hostListSource, text: source).encoded }
        if let identity = job.access.identity { out += MuxFrame(.identity, text: identity).encoded }
        if let knownHosts = job.access.knownHosts { out += MuxFrame(.knownHosts, text: knownHosts).encoded }
        if let agent = job.access.agentSocket { out += MuxFrame(.agentSocket, text: agent).encoded }
        if let config = job.access.sshConfig { out += MuxFrame(.sshConfig, text: config).encoded }
        if let timeout = job.access.connectTimeout {
            out += MuxFrame(.connectTimeout, text: String(timeout)).encoded
        }
        out += MuxFrame(.ioTimeout, text: String(job.access.ioTimeout)).encoded
        if let toolchain = job.toolchain { out += MuxFrame(.toolchain, text: toolchain).encoded }
        out += MuxFrame(.jobArguments, arguments(job.arguments)).encoded
        return out
    }

    /// Each argument followed by a NUL (arguments are C strings: they cannot hold one).
    static func arguments(_ arguments: [String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(arguments.reduce(0) { $0 + $1.utf8.count + 1 })
        for argument in arguments {
            out += argument.utf8
            out.append(0)
        }
        return out
    }

    static func arguments(from frame: MuxFrame) throws(MuxWireError) -> [String] {
        guard frame.body.last == 0 else { throw .badValue(frame.kind, "arguments not ended by NUL") }
        var arguments: [String] = []
        for bytes in frame.body.dropLast().split(separator: 0, omittingEmptySubsequences: false) {
            guard let argument = String(validating: bytes, as: UTF8.self) else {
                throw .badValue(frame.kind, "an argument is not UTF-8")
            }
            arguments.append(argument)
        }
        return arguments
    }

    /// The frame header of a piece of the source that follows a JOBA (JOBC, or JOBS for the last piece);
    /// the piece is sent from its own buffer.
    public static func sourceHeader(count: Int, last: Bool = true) -> [UInt8] {
        MuxFrame.header(last ? .jobSource : .jobPiece, count: count)
    }

    /// Reads a job's answer from the frames after the daemon's version frame; nil until complete.
    public static func answer(from frames: [MuxFrame]) throws(MuxWireError) -> JobAnswer? {
        var notes: [String] = []
        var host: String?
        var fromCache = false
        var result = JobResult(status: WaitStatus(0))
        var status: Int32?
        for frame in frames {
            switch frame.kind {
            case .note: notes.append(frame.text)
            // `HOST`, or `HOST cache` (host specs hold no spaces).
            case .compiledOn:
                let words = frame.text.split(separator: " ", maxSplits: 1).map(String.init)
                guard let first = words.first, words.count == 1 || words[1] == "cache" else {
                    throw .badValue(frame.kind, frame.text)
                }
                (host, fromCache) = (first, words.count == 2)
            case .resultStatus:
                guard let value = Int32(frame.text) else { throw .badValue(frame.kind, frame.text) }
                status = value
            case .resultStderr: result.stderr = frame.body
            case .resultStdout: result.stdout = frame.body
            case .resultObject:
                guard let host, let status else { throw .unexpected(frame.kind, expecting: "RHST and RSTA first") }
                result.status = WaitStatus(status)
                result.object = frame.body
                return .compiled(host: host, result: result, notes: notes, fromCache: fromCache)
            case .runLocally: return .runLocally(notes: notes)
            case .failure:
                // First line: the code, and ` told` when the failure was already printed.
                let lines = frame.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let head = lines.first?.split(separator: " ") ?? []
                guard let code = head.first.flatMap({ Int32($0) }), head.count <= 2, lines.count >= 2 else {
                    throw .badValue(.failure, frame.text)
                }
                return .failure(
                    code: code, summary: lines[1], details: Array(lines.dropFirst(2)), notes: notes,
                    alreadyTold: head.count == 2 && head[1] == "told")
            default: throw .unexpected(frame.kind, expecting: "NOTE, RHST, RSTA, RERR, ROUT, ROBJ, LOCL or FAIL")
            }
        }
        return nil
    }

    // MARK: Daemon side

    public static func encode(_ answer: JobAnswer) -> [UInt8] {
        var out: [UInt8] = []
        switch answer {
        case .compiled(let host, let result, let notes, let fromCache):
            for note in notes { out += MuxFrame(.note, text: note).encoded }
            out += MuxFrame(.compiledOn, text: host + (fromCache ? " cache" : "")).encoded
            out += MuxFrame(.resultStatus, text: String(result.status.rawValue)).encoded
            out += MuxFrame(.resultStderr, result.stderr).encoded
            out += MuxFrame(.resultStdout, result.stdout).encoded
            out += MuxFrame(.resultObject, result.object).encoded
        case .runLocally(let notes):
            for note in notes { out += MuxFrame(.note, text: note).encoded }
            out += MuxFrame(.runLocally).encoded
        case .failure(let code, let summary, let details, let notes, let told):
            for note in notes { out += MuxFrame(.note, text: note).encoded }
            let text = ([String(code) + (told ? " told" : ""), summary] + details).joined(separator: "\n")
            out += MuxFrame(.failure, text: text).encoded
        }
        return out
    }

    /// Reads a wrapper's request from the frames after its version frame; nil until complete.
    public static func request(from frames: [MuxFrame]) throws(MuxWireError) -> WrapperRequest? {
        var hostList = ""
        var hostListSource: String?
        var access = HostAccess(identity: nil, knownHosts: nil, agentSocket: nil, connectTimeout: nil, ioTimeout: 300)
        var toolchain: String?
        for frame in frames {
            switch frame.kind {
            case .statusQuery: return .status(json: frame.text == "json")
            case .stop: return .stop
            case .hostList: hostList = frame.text
            case .hostListSource: hostListSource = frame.text
            case .identity: access.identity = frame.text
            case .knownHosts: access.knownHosts = frame.text
            case .agentSocket: access.agentSocket = frame.text
            case .sshConfig: access.sshConfig = frame.text
            case .connectTimeout: access.connectTimeout = try seconds(frame)
            case .ioTimeout: access.ioTimeout = try seconds(frame)
            case .toolchain: toolchain = frame.text
            case .jobArguments:
                let arguments = try arguments(from: frame)
                guard arguments.first?.isEmpty == false else { throw .badValue(frame.kind, "no compiler named") }
                var job = JobSubmission(hostList: hostList, access: access, arguments: arguments, toolchain: toolchain)
                job.hostListSource = hostListSource
                return .job(job)
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

/// Words of the daemon's status text that the wrapper reads back.
public enum StatusWords {
    /// "farm capacity: 12 jobs at once": `sshcc --jobs` prints the number.
    public static let capacity = "farm capacity:"
}
