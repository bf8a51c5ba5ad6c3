// The `%` tokens and `~` of ssh_config(5) "TOKENS", for the keywords `ssh -G` prints unexpanded
// (IdentityFile, CertificateFile, ProxyCommand), and the hop process a ProxyJump or ProxyCommand becomes.

/// What the tokens stand for.
public struct TokenValues: Sendable {
    /// The local user's home directory from the password database (OpenSSH's `~` and `%d`).
    public var home: String
    public var localUser: String
    public var uid: UInt32
    public var localHostName: String

    public init(home: String, localUser: String, uid: UInt32, localHostName: String) {
        self.home = home
        self.localUser = localUser
        self.uid = uid
        self.localHostName = localHostName
    }
}

public enum Tokens {
    /// A path of IdentityFile or CertificateFile: a leading `~` and the tokens those keywords accept.
    public static func expandPath(_ path: String, host: ResolvedHost, values: TokenValues) throws(ConfigError)
        -> String
    {
        var text = path
        if text == "~" || text.hasPrefix("~/") { text = values.home + text.dropFirst() }
        return try expand(text, keyword: "identityfile", allowed: "%dhiklLnpru", host: host, values: values)
    }

    /// ProxyCommand's tokens (`%h %n %p %r %%`).
    public static func expandCommand(_ command: String, host: ResolvedHost, values: TokenValues) throws(ConfigError)
        -> String
    {
        try expand(command, keyword: "proxycommand", allowed: "%hnpr", host: host, values: values)
    }

    static func expand(_ text: String, keyword: String, allowed: String, host: ResolvedHost, values: TokenValues)
        throws(ConfigError) -> String
    {
        var out = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                out.append(character)
                continue
            }
            guard let token = iterator.next(), allowed.contains(token) else { throw ConfigError(keyword, text) }
            switch token {
            case "%": out += "%"
            case "d": out += values.home
            case "h": out += host.hostName
            case "i": out += String(values.uid)
            case "k": out += host.hostKeyAlias ?? host.hostName
            case "L": out += String(values.localHostName.prefix { $0 != "." })
            case "l": out += values.localHostName
            case "n": out += host.alias
            case "p": out += String(host.port)
            case "r": out += host.user
            case "u": out += values.localUser
            default: throw ConfigError(keyword, text)
            }
        }
        return out
    }
}

/// How a connection reaches its server when it does not connect directly: a process whose stdin/stdout is
/// the byte stream to the server's sshd, one per connection.
public enum HopCommand: Equatable, Sendable {
    /// Run through `/bin/sh -c 'exec …'`, as OpenSSH runs ProxyCommand.
    case shell(String)
    /// Run directly.
    case argv([String])

    /// The process for `host`'s ProxyCommand or ProxyJump, or nil for a direct connection. `configFile` is the
    /// `-F` file sshcc resolved the host with, so every hop reads the same configuration.
    public static func forHost(_ host: ResolvedHost, configFile: String?, values: TokenValues) throws(ConfigError)
        -> HopCommand?
    {
        if let command = host.proxyCommand {
            return .shell("exec " + (try Tokens.expandCommand(command, host: host, values: values)))
        }
        guard let jump = host.proxyJump else { return nil }
        // As OpenSSH does: the last hop is the destination of an `ssh -W`, the hops before it its -J.
        var hops = jump.split(separator: ",").map(String.init)
        guard let last = hops.popLast(), !last.isEmpty else { throw ConfigError("proxyjump", jump) }
        var argv = ["ssh"]
        if let configFile { argv += ["-F", configFile] }
        // Nothing can answer a prompt in the daemon: a hop that needs a password or a host key decision fails.
        argv += ["-o", "BatchMode=yes"]
        if !hops.isEmpty { argv += ["-J", hops.joined(separator: ",")] }
        let target = host.hostName.contains(":") ? "[\(host.hostName)]" : host.hostName
        argv += ["-W", "\(target):\(host.port)", last.hasPrefix("ssh://") ? last : "ssh://" + last]
        return .argv(argv)
    }

    /// Names the hop for messages.
    public var description: String {
        switch self {
        case .shell(let command): "ProxyCommand '\(command.dropFirst("exec ".count))'"
        case .argv(let argv): "jump host (\(argv.joined(separator: " ")))"
        }
    }
}
