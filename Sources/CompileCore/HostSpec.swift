// The host-list grammar, as SSHCC_HOSTS and the hosts file use it:
//     [user@]host[:port][/slots][,option…]      separated by whitespace; `#` starts a comment to end of line
// `host` may be an IPv6 address in brackets ([::1]:2222). `localhost[/N]` means N local compile slots
// (`localhost:PORT` and `user@localhost` are SSH hosts).
// Pure parsing; reading the environment and the file is the client's job.

/// One entry of the host list.
public struct HostSpec: Equatable, Sendable, CustomStringConvertible {
    public static let defaultPort = 22
    public static let defaultSlots = 4
    /// Host options; unknown options are an error rather than silently ignored.
    /// `distccd`: the host has Debian's distcc server, not sshccd: each job runs `distccd --inetd` on a
    /// channel of its own (an exec request on the same connection).
    /// `zstd`, `lzo`, `plain`: how job bodies are compressed (see `compression`).
    /// `sshzlib`: SSH-level zlib compression of the whole connection (libssh2's), for comparison.
    public static let knownOptions = Set(["distccd", "sshzlib"] + BodyCompression.allCases.map(\.rawValue))

    public var user: String?
    public var host: String
    public var port: Int
    /// True when the entry wrote a port (even 22): it then wins over the SSH configuration's Port, as
    /// `ssh -p` does.
    public var portGiven: Bool
    public var slots: Int
    public var options: [String]

    public init(
        user: String? = nil, host: String, port: Int? = nil, slots: Int = defaultSlots, options: [String] = []
    ) {
        self.user = user
        self.host = host
        self.port = port ?? Self.defaultPort
        portGiven = port != nil
        self.slots = slots
        self.options = options
    }

    /// True for `,distccd` hosts: stock distccd over exec channels, one job per channel.
    public var runsStockDistccd: Bool { options.contains("distccd") }

    /// The host's body compression: the option given, else zstd for sshccd and LZO for stock distccd (both
    /// the best its server speaks; compression costs a few ms per MB and saves 85–90 % of the bytes).
    public var compression: BodyCompression {
        options.lazy.compactMap(BodyCompression.init(rawValue:)).first ?? (runsStockDistccd ? .lzo : .zstd)
    }

    /// True for `,sshzlib`: libssh2 compresses the whole SSH connection with zlib.
    public var compressesConnection: Bool { options.contains("sshzlib") }

    /// `localhost` entries are local compile slots, not SSH hosts (as in distcc); with a user or a port
    /// (`localhost:22`, `me@localhost`) they are SSH hosts like any other.
    public var isLocal: Bool { host == "localhost" && user == nil && !portGiven }

    /// The name known_hosts uses: `host` for port 22, `[host]:port` otherwise (OpenSSH's rule).
    public var knownHostsName: String { port == Self.defaultPort ? host : "[\(host)]:\(port)" }

    public var description: String {
        var text = user.map { "\($0)@" } ?? ""
        text += host.contains(":") ? "[\(host)]" : host
        if port != Self.defaultPort || portGiven { text += ":\(port)" }
        if slots != Self.defaultSlots { text += "/\(slots)" }
        for option in options { text += ",\(option)" }
        return text
    }
}

/// Why a host entry does not parse.
public struct HostSpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public var entry: String
    public var reason: String
    public init(entry: String, reason: String) {
        self.entry = entry
        self.reason = reason
    }
    public var description: String { "bad host entry '\(entry)': \(reason)" }
}

public enum HostList {
    /// Parses a whole host list (environment variable or file contents); the first bad entry throws.
    public static func parse(_ text: String) throws(HostSpecError) -> [HostSpec] {
        let (specs, problems) = parseSkippingBad(text)
        if let first = problems.first { throw first.error }
        return specs
    }

    /// A bad entry and the line it is on (1 for the first).
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var error: HostSpecError
        public var description: String { "line \(line): \(error)" }
    }

    /// Parses a whole host list, leaving out bad entries (one typo must not take the farm away): the good
    /// entries, and where each bad one is.
    public static func parseSkippingBad(_ text: String) -> (specs: [HostSpec], problems: [Problem]) {
        var specs: [HostSpec] = []
        var problems: [Problem] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for word in content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
                do throws(HostSpecError) {
                    specs.append(try parseEntry(String(word)))
                } catch {
                    problems.append(Problem(line: index + 1, error: error))
                }
            }
        }
        return (specs, problems)
    }

    /// Parses one `[user@]host[:port][/slots][,option…]` entry.
    public static func parseEntry(_ entry: String) throws(HostSpecError) -> HostSpec {
        func fail(_ reason: String) -> HostSpecError { HostSpecError(entry: entry, reason: reason) }
        var parts = entry.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var rest = parts.removeFirst()
        for option in parts where !HostSpec.knownOptions.contains(option) {
            throw fail(
                option.isEmpty
                    ? "empty option after ','"
                    : "unknown option ',\(option)' (options: "
                        + HostSpec.knownOptions.sorted().map { "," + $0 }.joined(separator: " ")
                        + "; hosts are separated by spaces, not commas)")
        }
        let compressions = parts.filter { BodyCompression(rawValue: $0) != nil }
        if compressions.count > 1 {
            throw fail("choose one of ,zstd ,lzo ,plain (got \(compressions.map { "," + $0 }.joined(separator: " ")))")
        }
        if compressions == ["zstd"] && parts.contains("distccd") {
            throw fail("Debian's distccd has no zstd (protocol 4); use ,lzo or ,plain")
        }

        var spec = HostSpec(host: "", options: parts)
        if let at = rest.lastIndex(of: "@") {
            let user = String(rest[..<at])
            guard !user.isEmpty, user.allSatisfy(isNameCharacter), user.first != "-" else {
                throw fail("user name '\(user)' is empty or has characters other than letters, digits, . _ -")
            }
            spec.user = user
            rest = String(rest[rest.index(after: at)...])
        }
        if let slash = rest.lastIndex(of: "/") {
            guard let slots = Int(rest[rest.index(after: slash)...]), (1...1000).contains(slots) else {
                throw fail("slots after '/' must be a number from 1 to 1000")
            }
            spec.slots = slots
            rest = String(rest[..<slash])
        }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("'[' without ']'") }
            spec.host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = String(rest[rest.index(after: close)...])
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw fail("unexpected '\(rest)' after ']'") }
                spec.port = try port(String(rest.dropFirst()), fail)
                spec.portGiven = true
            }
        } else if let colon = rest.firstIndex(of: ":") {
            spec.host = String(rest[..<colon])
            spec.port = try port(String(rest[rest.index(after: colon)...]), fail)
            spec.portGiven = true
        } else {
            spec.host = rest
        }
        guard !spec.host.isEmpty else { throw fail("no host name") }
        guard spec.host.first != "-", spec.host.allSatisfy({ isNameCharacter($0) || $0 == ":" }) else {
            throw fail("host name '\(spec.host)' has characters other than letters, digits, . _ - :")
        }
        return spec
    }

    private static func port(_ text: String, _ fail: (String) -> HostSpecError) throws(HostSpecError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else { throw fail("port must be 1 to 65535") }
        return port
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "._-".contains(character))
    }
}

/// How a host's job bodies (source, object, messages) are compressed on the wire: distcc protocol 1
/// (`plain`), 2 (`lzo`) or 4 (`zstd`).
public enum BodyCompression: String, CaseIterable, Sendable {
    case plain, lzo, zstd
}
