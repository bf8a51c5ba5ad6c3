// How to reach one host entry, the way `ssh` would reach it: OpenSSH itself resolves the user's
// configuration (`ssh -G`, with the entry's user and port as `-l`/`-p`, which win as on ssh's command line);
// then SSHCC_* settings win where set. Without an OpenSSH client, sshcc's defaults (OpenSSH's own). Runs on
// the connecting thread, once per connection attempt.
//
// Precedence, highest first: the host entry's user@ and :port; SSHCC_IDENTITY, SSHCC_KNOWN_HOSTS,
// SSHCC_CONNECT_TIMEOUT; the SSH configuration (SSHCC_SSH_CONFIG, else ~/.ssh/config and /etc/ssh/ssh_config);
// OpenSSH's defaults.

import CompileCore
import MuxCore
import OpenSSHConfig
import POSIXSupport
import SSH

/// Everything a connection attempt needs to know about its host.
struct ConnectPlan: Sendable {
    var host: ResolvedHost
    /// Expanded paths, in the order OpenSSH would offer them.
    var identities: [String]
    var identitiesOnly: Bool
    /// CertificateFile paths, expanded; each identity's `-cert.pub` is looked for beside it as well.
    var certificates: [String]
    var knownHostsFiles: [String]
    var connectTimeout: Double
    var route: Session.Route
    /// Where the settings came from, for messages and `sshcc doctor`.
    var source: String
}

enum HostResolver {
    static let defaultConnectTimeout = 10.0

    static func plan(_ spec: HostSpec, access: HostAccess) throws(SSHCCFailure) -> ConnectPlan {
        let values = tokenValues()
        var host: ResolvedHost
        var source: String
        if let ssh = Environment.findExecutable("ssh") {
            host = try askOpenSSH(ssh, spec, access: access)
            source = "ssh -G" + (access.sshConfig.map { " -F \($0)" } ?? "")
        } else {
            host = defaults(spec, values: values)
            source = "sshcc's defaults (no OpenSSH client installed)"
        }
        var identities: [String]
        let certificates: [String]
        do throws(ConfigError) {
            identities = try host.identityFiles.map { path throws(ConfigError) in
                try Tokens.expandPath(path, host: host, values: values)
            }
            certificates = try host.certificateFiles.map { path throws(ConfigError) in
                try Tokens.expandPath(path, host: host, values: values)
            }
        } catch {
            throw SSHCCFailure(.badHostSpec, "\(spec): \(error)")
        }
        var identitiesOnly = host.identitiesOnly
        if let identity = access.identity {
            identities = [identity]
            identitiesOnly = true
            source += ", SSHCC_IDENTITY"
        }
        var knownHosts = host.userKnownHostsFiles + host.globalKnownHostsFiles
        if let file = access.knownHosts {
            knownHosts = [file]
            source += ", SSHCC_KNOWN_HOSTS"
        }
        let route: Session.Route
        do throws(ConfigError) {
            switch try HopCommand.forHost(host, configFile: access.sshConfig, values: values) {
            case nil: route = .direct
            case .argv(let argv)?: route = .hop(argv: argv, name: "jump host \(host.proxyJump ?? "")")
            case .shell(let command)?:
                route = .hop(argv: ["/bin/sh", "-c", command], name: "ProxyCommand '\(host.proxyCommand ?? "")'")
            }
        } catch {
            throw SSHCCFailure(.badHostSpec, "\(spec): \(error)")
        }
        return ConnectPlan(
            host: host, identities: identities, identitiesOnly: identitiesOnly, certificates: certificates,
            knownHostsFiles: knownHosts,
            connectTimeout: access.connectTimeout ?? host.connectTimeout ?? defaultConnectTimeout, route: route,
            source: source)
    }

    /// `ssh [-F FILE] -G [-l USER] [-p PORT] HOST`, read.
    static func askOpenSSH(_ ssh: String, _ spec: HostSpec, access: HostAccess) throws(SSHCCFailure) -> ResolvedHost {
        var arguments = ["ssh"]
        if let config = access.sshConfig { arguments += ["-F", config] }
        arguments.append("-G")
        if let user = spec.user { arguments += ["-l", user] }
        if spec.portGiven { arguments += ["-p", String(spec.port)] }
        arguments.append(spec.host)
        let result: ProcessResult
        do {
            result = try Subprocess.run(executable: ssh, arguments: arguments, captureLimit: 1024 * 1024)
        } catch {
            throw SSHCCFailure(.badHostSpec, "cannot ask OpenSSH how to reach \(spec): \(error)")
        }
        guard result.exitCode == 0 else {
            let said = String(decoding: result.stderr, as: UTF8.self).split(separator: "\n")
                .filter { !$0.hasPrefix("Pseudo-terminal") }.prefix(3).joined(separator: "; ")
            throw SSHCCFailure(
                .badHostSpec, "the SSH configuration for \(spec) does not parse: \(shown(said, limit: 400))",
                details: ["  check it with: \(arguments.joined(separator: " "))"])
        }
        do {
            return try ResolvedHost.parse(sshG: String(decoding: result.stdout, as: UTF8.self), alias: spec.host)
        } catch {
            throw SSHCCFailure(.badHostSpec, "\(spec): \(error)")
        }
    }

    /// What `ssh -G` would print for a host nobody configured.
    static func defaults(_ spec: HostSpec, values: TokenValues) -> ResolvedHost {
        var host = ResolvedHost(
            alias: spec.host, hostName: spec.host, user: spec.user ?? values.localUser, port: spec.port)
        host.identityFiles = ["~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ed25519"]
        host.userKnownHostsFiles = [values.home + "/.ssh/known_hosts", values.home + "/.ssh/known_hosts2"]
        host.globalKnownHostsFiles = ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]
        return host
    }

    /// OpenSSH takes `~` and the user name from the password database, not from $HOME.
    static func tokenValues() -> TokenValues {
        TokenValues(
            home: Environment.passwordHome ?? Environment.home, localUser: Environment.userName,
            uid: CurrentProcess.userID, localHostName: Environment.hostName)
    }
}
