// Reading the process environment and the user's identity.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum Environment {
    /// The variable's value, nil when unset. An empty value is returned as is.
    public static func get(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// A positive number of seconds from `name`, else `value`.
    public static func seconds(_ name: String, default value: Double) -> Double {
        get(name).flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? value
    }

    /// The home directory: HOME, else the password database.
    public static var home: String {
        if let home = get("HOME"), !home.isEmpty { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// The home directory the password database gives (OpenSSH's `~` and %d ignore $HOME).
    public static var passwordHome: String? {
        guard let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }

    /// This machine's host name (OpenSSH's %L and %l).
    public static var hostName: String {
        var name = [UInt8](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The login name of the current user (for SSH when a host entry has no `user@`).
    public static var userName: String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return get("USER") ?? "root"
    }

    /// The full path of `name` on PATH, skipping directories `skip` says no to; names with a `/` are returned as is.
    public static func findExecutable(
        _ name: String, path: String? = get("PATH"), skip: (String) -> Bool = { _ in false }
    ) -> String? {
        if name.contains("/") { return Files.isExecutableFile(name) ? name : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(
            separator: ":", omittingEmptySubsequences: false)
        {
            let dir = directory.isEmpty ? "." : String(directory)
            if skip(dir) { continue }
            let candidate = dir + "/" + name
            if Files.isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    /// The name of account `uid`, or its number when the password database has none.
    public static func userName(of uid: UInt32) -> String {
        if let entry = getpwuid(uid_t(uid)), let name = entry.pointee.pw_name { return String(cString: name) }
        return String(uid)
    }
}
