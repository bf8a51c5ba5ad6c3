// A host as OpenSSH's client resolves it, read from what `ssh -G HOST` prints (one `keyword value` per
// line, keywords lowercased, Host/Match blocks, Include and defaults already applied). OpenSSH answers the
// question, sshcc only reads the answer: no ssh_config parsing here. Pure: text in, values out.
//
// `ssh -G` expands `%` tokens in some keywords (UserKnownHostsFile) but leaves IdentityFile, CertificateFile
// and ProxyCommand as written: those are expanded later, when used (Tokens).

public struct ResolvedHost: Equatable, Sendable {
    /// The name as the user wrote it (the alias): OpenSSH's `%n`.
    public var alias: String
    public var hostName: String
    public var user: String
    public var port: Int
    public var identityFiles: [String] = []
    public var identitiesOnly = false
    public var certificateFiles: [String] = []
    public var userKnownHostsFiles: [String] = []
    public var globalKnownHostsFiles: [String] = []
    public var hostKeyAlias: String?
    /// Seconds, nil for none (the system's TCP timeout).
    public var connectTimeout: Double?
    /// Seconds between keepalives; 0 for none.
    public var serverAliveInterval: Double = 0
    public var serverAliveCountMax = 3
    /// `user@host:port,…` hops, or nil.
    public var proxyJump: String?
    /// The command, tokens unexpanded, or nil.
    public var proxyCommand: String?

    public init(alias: String, hostName: String, user: String, port: Int) {
        self.alias = alias
        self.hostName = hostName
        self.user = user
        self.port = port
    }

    /// The name known_hosts records the host under: HostKeyAlias as is, else the host name, with `[…]:port`
    /// for a port other than 22 (sshconnect.c).
    public var knownHostsName: String {
        if let hostKeyAlias { return hostKeyAlias }
        let host = hostName.lowercased()
        return port == 22 ? host : "[\(host)]:\(port)"
    }

    /// Reads `ssh -G` output for `alias`. Unknown keywords are ignored (sshcc does not use them); a value that
    /// does not parse is an error naming the keyword.
    public static func parse(sshG text: String, alias: String) throws(ConfigError) -> ResolvedHost {
        var host = ResolvedHost(alias: alias, hostName: alias, user: "", port: 22)
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            let keyword = parts[0].lowercased()
            let value = String(parts[1])
            switch keyword {
            case "hostname": host.hostName = value
            case "user": host.user = value
            case "port":
                guard let port = Int(value), (1...65535).contains(port) else { throw ConfigError(keyword, value) }
                host.port = port
            case "identityfile": host.identityFiles.append(value)
            case "identitiesonly": host.identitiesOnly = value == "yes"
            case "certificatefile": host.certificateFiles.append(value)
            case "userknownhostsfile": host.userKnownHostsFiles = words(value)
            case "globalknownhostsfile": host.globalKnownHostsFiles = words(value)
            case "hostkeyalias": host.hostKeyAlias = value
            case "connecttimeout": host.connectTimeout = try seconds(keyword, value)
            case "serveraliveinterval": host.serverAliveInterval = try seconds(keyword, value) ?? 0
            case "serveralivecountmax":
                guard let count = Int(value), count >= 0 else { throw ConfigError(keyword, value) }
                host.serverAliveCountMax = count
            case "proxyjump": host.proxyJump = value == "none" ? nil : value
            case "proxycommand": host.proxyCommand = value == "none" ? nil : value
            default: continue
            }
        }
        // OpenSSH: a ProxyCommand set first wins over a ProxyJump and the other way round; `ssh -G` prints
        // only the one in force, except that "none" for one clears both.
        return host
    }

    static func words(_ value: String) -> [String] {
        value.split(separator: " ").map(String.init).filter { $0 != "none" }
    }

    static func seconds(_ keyword: String, _ value: String) throws(ConfigError) -> Double? {
        if value == "none" { return nil }
        guard let seconds = Double(value), seconds >= 0 else { throw ConfigError(keyword, value) }
        return seconds
    }
}

/// A value `ssh -G` printed that sshcc cannot use.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var keyword: String
    public var value: String
    init(_ keyword: String, _ value: String) {
        self.keyword = keyword
        self.value = value
    }
    public var description: String { "ssh -G printed \(keyword) '\(value)', which sshcc cannot use" }
}
