// A real OpenSSH sshd for tests, started by the test (OpenSSH's regress/test-exec.sh is the model): fresh
// host keys of the three types a stock Debian sshd has (rsa, ecdsa, ed25519), an ed25519 user key, a per-test sshd_config checked with `sshd -t`, a free loopback port, the
// sshccd subsystem pointing at the built binary, logs kept for failure reports. Stopped by its own PID.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A running sshd on 127.0.0.1 with the sshcc subsystem, and a client setup that trusts it.
public final class SSHDServer: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public private(set) var port: Int = 0
    /// sshd's PID, read from its PidFile: sshd daemonizes itself (Foundation's Process blocks its monitor
    /// thread in wait4() on a long-lived daemon that forks, which stalls every other Process).
    private var pid: pid_t?
    private var pidFile: String { directory.path + "/sshd.pid" }

    /// The host key types of a stock Debian sshd.
    public static let hostKeyTypes = ["rsa", "ecdsa", "ed25519"]
    /// The ed25519 host key (the type OpenSSH's client prefers and records).
    public var hostKeyPublic: String { directory.path + "/host_ed25519.pub" }
    /// The client's OpenSSH configuration file (SSHCC_SSH_CONFIG, `ssh -F`).
    public var sshConfig: String { directory.path + "/ssh_config" }
    public var userKey: String { directory.path + "/id_ed25519" }
    public var knownHosts: String { directory.path + "/known_hosts" }
    public var sshdLog: String { directory.path + "/sshd.log" }
    public var sshdConfig: String { directory.path + "/sshd_config" }
    public var sshccdLog: String { directory.path + "/sshccd.log" }
    public var hostSpec: String { "127.0.0.1:\(port)" }

    /// Starts sshd. `subsystem: false` leaves the sshcc subsystem out; `extraConfig` adds sshd_config lines.
    /// `sshccdOptions` are added to sshccd's line in the Subsystem entry.
    /// `namespace` runs it inside a private network namespace (reachable only from there).
    public init(
        subsystem: Bool = true, objectCache: Bool = false, sshccdOptions: [String] = [], extraConfig: [String] = [],
        namespace: NetworkNamespace? = nil
    ) throws {
        directory = try TemporaryDirectory("sshcc-sshd")
        if getuid() == 0 {
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }
        for type in Self.hostKeyTypes {
            try Command.check(
                "ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "test-host", "-f", directory.path + "/host_\(type)"])
        }
        // The client's own OpenSSH configuration: empty unless a test writes one (never ~/.ssh/config).
        try directory.write("ssh_config", "")
        try Command.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test-user", "-f", userKey])
        try FileManager.default.copyItem(atPath: userKey + ".pub", toPath: directory.path + "/authorized_keys")

        var lastError = ""
        for _ in 0..<20 {
            port = Int.random(in: 20000...60000)
            var config = [
                "ListenAddress 127.0.0.1:\(port)",
                // sshd's default order (rsa, ecdsa, ed25519), as on a stock server.
                "HostKey \(directory.path)/host_rsa",
                "HostKey \(directory.path)/host_ecdsa",
                "HostKey \(directory.path)/host_ed25519",
                "AuthorizedKeysFile \(directory.path)/authorized_keys",
                "PidFile \(pidFile)",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "LogLevel VERBOSE",
                // sshd runs the subsystem through the login shell. The test account is the tester's own; when
                // its shell is bash, SHLVL=1 stops bash sourcing ~/.bashrc for an sshd session, as a compile
                // account's /bin/sh would: a test must not depend on (or wait for) the tester's dotfiles.
                // sshd uses only its first SetEnv line, so a test's own variables join this one.
                (["SetEnv SHLVL=1"] + extraConfig.filter { $0.hasPrefix("SetEnv ") }.map { $0.dropFirst(7) })
                    .joined(separator: " "),
            ]
            // Its own compile slots: tests run in parallel and must not queue behind each other's servers.
            if subsystem {
                config.append(
                    "Subsystem sshcc \(Products.sshccd) --config none --log \(sshccdLog) --jobs 4 --slots-dir \(directory.path)/slots "
                        + "--cache \(directory.path)/sshccd-cache "
                        + (objectCache ? "" : "--objects none ")
                        + "--gcc-plugins \(GCCPluginBuild.directory) "
                        + sshccdOptions.joined(separator: " "))
            }
            try directory.write(
                "sshd_config", (config + extraConfig.filter { !$0.hasPrefix("SetEnv ") }).joined(separator: "\n") + "\n"
            )
            let configPath = directory.path + "/sshd_config"
            try Command.check("/usr/sbin/sshd", ["-t", "-f", configPath])

            // sshd binds before it daemonizes: a port in use fails here, at once.
            let argv = ["/usr/sbin/sshd", "-f", configPath, "-E", sshdLog]
            let started =
                try namespace.map { try Command.run("/usr/sbin/ip", Array($0.wrap(argv).dropFirst())) }
                ?? Command.run(argv[0], Array(argv.dropFirst()))
            // In a namespace, the PID file (written after sshd listens) is the sign: the port is not ours to try.
            if started.status == 0, let pid = waitForPidFile(), namespace != nil || Self.waitForListener(port: port) {
                self.pid = pid
                try writeKnownHosts()
                return
            }
            lastError = (try? String(contentsOfFile: sshdLog, encoding: .utf8)) ?? started.stderrText
        }
        throw TestSupportError("sshd did not start: \(lastError)")
    }

    deinit { stop() }

    /// Stops sshd (SIGTERM to its PID; its sessions end when their connections close).
    public func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
        self.pid = nil
    }

    /// Kills sshd and every process it started (its connections, their sshccd) with SIGKILL: the host
    /// vanishes mid-job, as when a machine dies.
    public func killAll() {
        guard let pid else { return }
        let all = [pid] + Self.descendants(of: pid)
        for process in all { Glibc.kill(process, SIGKILL) }
        for process in all { for _ in 0..<100 where Glibc.kill(process, 0) == 0 { usleep(10_000) } }
        self.pid = nil
    }

    /// Every process below `pid`, from /proc.
    static func descendants(of pid: pid_t) -> [pid_t] {
        var parents: [pid_t: pid_t] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry),
                let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }),
                let parent = pid_t(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
            else { continue }
            parents[child] = parent
        }
        var result: [pid_t] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value == next }.map(\.key)
            result += children
            frontier += children
        }
        return result
    }

    /// Starts sshd again, same port, keys and configuration, after `stop` or `killAll`: a server that
    /// rebooted, or whose sshd was restarted.
    public func restart() throws {
        try? FileManager.default.removeItem(atPath: pidFile)
        let started = try Command.run("/usr/sbin/sshd", ["-f", sshdConfig, "-E", sshdLog])
        guard started.status == 0, let pid = waitForPidFile(), Self.waitForListener(port: port) else {
            throw TestSupportError("sshd did not start again: \(started.stderrText)")
        }
        self.pid = pid
    }

    /// Lets the client of `other` log in here and trust this host: one key and one known_hosts for both.
    public func trust(clientOf other: SSHDServer) throws {
        let key = try String(contentsOfFile: other.userKey + ".pub", encoding: .utf8)
        let authorized = directory.path + "/authorized_keys"
        try (try String(contentsOfFile: authorized, encoding: .utf8) + key).write(
            toFile: authorized, atomically: true, encoding: .utf8)
        let publicKey = try String(contentsOfFile: hostKeyPublic, encoding: .utf8)
        let fields = publicKey.split(separator: " ").prefix(2).joined(separator: " ")
        let known = try String(contentsOfFile: other.knownHosts, encoding: .utf8)
        try (known + "[127.0.0.1]:\(port) \(fields)\n").write(
            toFile: other.knownHosts, atomically: true, encoding: .utf8)
    }

    private func waitForPidFile() -> pid_t? {
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return pid
            }
            usleep(20_000)
        }
        return nil
    }

    /// known_hosts with this server's key under OpenSSH's name for a non-22 port.
    public func writeKnownHosts(key: String? = nil) throws {
        let publicKey = try key ?? String(contentsOfFile: hostKeyPublic, encoding: .utf8)
        let fields = publicKey.split(separator: " ").prefix(2).joined(separator: " ")
        try "[127.0.0.1]:\(port) \(fields)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    /// The environment for running sshcc against this server: private HOME, no agent, verbose.
    public func clientEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": directory.path + "/home",
            "SSHCC_HOSTS": hostSpec,
            "SSHCC_IDENTITY": userKey,
            "SSHCC_KNOWN_HOSTS": knownHosts,
            "SSHCC_SSH_CONFIG": sshConfig,
            "SSHCC_CONNECT_TIMEOUT": "10",
            "SSHCC_DIR": directory.muxDirectory,
            "LANG": "C",
        ]
        environment.merge(extra) { $1 }
        return environment
    }

    /// sshccd's log so far.
    public var sshccdLogText: String { (try? String(contentsOfFile: sshccdLog, encoding: .utf8)) ?? "" }

    /// sshd's and sshccd's logs, for a failing test's report.
    public var logs: String {
        let sshd = (try? String(contentsOfFile: sshdLog, encoding: .utf8)) ?? "(none)"
        let sshccd = (try? String(contentsOfFile: sshccdLog, encoding: .utf8)) ?? "(none)"
        return "--- sshd log ---\n\(sshd)\n--- sshccd log ---\n\(sshccd)"
    }

    /// Jobs sshccd logged as served (lines `job N: …`).
    public var jobsServed: Int {
        let log = (try? String(contentsOfFile: sshccdLog, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.contains("] info: job ") }.count
    }

    /// Successful logins sshd logged.
    public var logins: Int {
        let log = (try? String(contentsOfFile: sshdLog, encoding: .utf8)) ?? ""
        // sshd -E ends lines with "\r\n", which Swift sees as one Character: split on any newline.
        return log.split(whereSeparator: \.isNewline).filter { $0.contains("Accepted publickey") }.count
    }

    private static func waitForListener(port: Int) -> Bool {
        for _ in 0..<100 {
            if canConnect(port: port) { return true }
            usleep(50_000)
        }
        return false
    }

    /// True when something accepts TCP connections on 127.0.0.1:port.
    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    /// A loopback port nothing listens on (for "host is down").
    public static func closedPort() -> Int {
        while true {
            let port = Int.random(in: 20000...60000)
            if !canConnect(port: port) { return port }
        }
    }
}
