// What every known_hosts file OpenSSH would read says about the key a server offered, and which host key
// algorithms to ask for so that the server offers a key the files know (OpenSSH's order_hostkeyalgs: types
// already recorded for the host first). Pure: files as parsed lines in, a finding out.
//
// Stricter, never looser: a key listed `@revoked` anywhere (for any host) is refused; a damaged revocation
// stops every key; a recorded key of the offered type that differs is a change (a possible
// man-in-the-middle), never "unknown"; a host known only by keys of other types is refused too, with the
// types named, because a server that stops offering the recorded type is what an attacker without the key
// would look like.

/// One known_hosts file, read.
public struct KnownHostsSource: Sendable {
    public var path: String
    public var lines: [KnownHostsLine]
    public init(path: String, lines: [KnownHostsLine]) {
        self.path = path
        self.lines = lines
    }
}

/// A line of a known_hosts file, for messages: `path:line`.
public struct KnownHostsPlace: Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public init(path: String, line: Int) {
        self.path = path
        self.line = line
    }
    public var description: String { "\(path):\(line)" }
}

public enum KnownHostsFinding: Equatable, Sendable {
    /// A plain entry for the host holds exactly this key.
    case match(KnownHostsPlace)
    /// The key is listed `@revoked` (or sits in a marker line sshcc cannot read).
    case revoked(KnownHostsPlace)
    /// A line that looks like a revocation cannot be read: no key is trusted until it is fixed.
    case unreadableRevocation(KnownHostsPlace)
    /// An entry for the host and this key type holds a different key.
    case changed(KnownHostsPlace)
    /// The host is recorded only with keys of other types (the first such entry, and the types).
    case otherTypes(KnownHostsPlace, types: [String])
    /// Only `@cert-authority` lines name the host: it must present a certificate.
    case certificateExpected(KnownHostsPlace)
    /// Nothing about this host.
    case unknown
}

public enum KnownHostsCheck {
    /// The finding for a server offering `keyBase64` of `keyType` under `name` (`host` or `[host]:port`,
    /// or the HostKeyAlias).
    public static func check(
        keyType: String, keyBase64: String, name: String, in sources: [KnownHostsSource], hmac: HMACSHA1
    ) -> KnownHostsFinding {
        var damaged: KnownHostsPlace?
        for source in sources {
            switch KnownHostsRevocation.check(keyBase64, in: source.lines) {
            case .revoked(let line): return .revoked(KnownHostsPlace(path: source.path, line: line))
            case .unreadable(let line): damaged = damaged ?? KnownHostsPlace(path: source.path, line: line)
            case .notRevoked: break
            }
        }
        if let damaged { return .unreadableRevocation(damaged) }

        var changed: KnownHostsPlace?
        var other: (KnownHostsPlace, [String])?
        var authority: KnownHostsPlace?
        for (source, entry) in entries(for: name, in: sources, hmac: hmac) {
            let place = KnownHostsPlace(path: source.path, line: entry.line)
            switch entry.marker {
            case .revoked:
                continue
            case .certAuthority:
                authority = authority ?? place
            case .plain where entry.keyType == keyType:
                if entry.keyBase64 == keyBase64 { return .match(place) }
                changed = changed ?? place
            case .plain:
                if other == nil { other = (place, []) }
                if !other!.1.contains(entry.keyType) { other!.1.append(entry.keyType) }
            }
        }
        if let changed { return .changed(changed) }
        if let (place, types) = other { return .otherTypes(place, types: types) }
        if let authority { return .certificateExpected(authority) }
        return .unknown
    }

    /// The host key algorithms to offer, from `supported` (libssh2's), in OpenSSH's default preference
    /// (ed25519, then ECDSA, then RSA), the types recorded for `name` moved first. DSA and unknown
    /// algorithms are left out, as OpenSSH leaves DSA out by default.
    public static func algorithms(for name: String, in sources: [KnownHostsSource], supported: [String], hmac: HMACSHA1)
        -> [String]
    {
        let preference = [
            "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
        ]
        let available = preference.filter(supported.contains)
        var recorded: Set<String> = []
        for (_, entry) in entries(for: name, in: sources, hmac: hmac) where entry.marker == .plain {
            recorded.insert(entry.keyType)
        }
        return available.filter(recorded.contains) + available.filter { !recorded.contains($0) }
    }

    /// Whether a plain entry (not a CA, not a revocation) names `name`.
    public static func recordsPlainKeys(for name: String, in sources: [KnownHostsSource], hmac: HMACSHA1) -> Bool {
        entries(for: name, in: sources, hmac: hmac).contains { $0.1.marker == .plain }
    }

    /// The CA keys (base64) that `@cert-authority` lines name for `name`, with their places.
    public static func authorities(for name: String, in sources: [KnownHostsSource], hmac: HMACSHA1)
        -> [(keyBase64: String, place: KnownHostsPlace)]
    {
        entries(for: name, in: sources, hmac: hmac).filter { $0.1.marker == .certAuthority }.map {
            ($0.1.keyBase64, KnownHostsPlace(path: $0.0.path, line: $0.1.line))
        }
    }

    /// The entries whose hosts field names `name`, in file order.
    static func entries(for name: String, in sources: [KnownHostsSource], hmac: HMACSHA1)
        -> [(KnownHostsSource, KnownHostsEntry)]
    {
        var found: [(KnownHostsSource, KnownHostsEntry)] = []
        for source in sources {
            for case .entry(let entry) in source.lines where HostPatterns.matches(name, field: entry.hosts, hmac: hmac)
            {
                found.append((source, entry))
            }
        }
        return found
    }
}
