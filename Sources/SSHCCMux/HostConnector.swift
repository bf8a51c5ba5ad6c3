// Reaching one compile host: connect, verify its host key, log in. Runs on a thread of its own (it
// blocks until its deadline) and hands the authenticated session to the host's driver. Each way this goes
// wrong becomes a ClientFailure whose text names the host and the fix; the wrapper prints it.

import CompileCore
import MuxCore
import POSIXSupport
import SSH

/// The subsystem name sshd_config maps to sshccd.
public let subsystemName = "sshcc"
/// What a `,distccd` host runs on each channel: Debian's distcc server serving one job on stdin/stdout.
public let distccdCommand = "distccd --inetd"

enum HostConnector {
    /// An authenticated session to `spec`, or the reason there is none.
    static func connect(_ spec: HostSpec, access: HostAccess) throws(ClientFailure) -> Session {
        let deadline = Deadline(secondsFromNow: access.connectTimeout)
        let session: Session
        do {
            session = try Session(
                host: spec.host, port: spec.port, deadline: deadline, compressed: spec.compressesConnection)
        } catch {
            throw ClientFailure(.connectFailed, "cannot reach \(spec): \(error)")
        }
        try verifyHostKey(session, spec: spec, knownHosts: access.knownHosts)
        try logIn(session, spec: spec, access: access, deadline: deadline)
        return session
    }

    /// The failure for a channel whose subsystem request was refused.
    static func noSubsystem(_ spec: HostSpec) -> ClientFailure {
        ClientFailure(
            .serverRefused, "\(spec) has no '\(subsystemName)' subsystem",
            details: [
                "  fix: add this line to the host's sshd_config and reload sshd:",
                "    Subsystem \(subsystemName) /usr/local/bin/sshccd",
            ])
    }

    /// The failure for a channel that closed with sshd's "command not found" status before replying.
    static func sshccdMissing(_ spec: HostSpec) -> ClientFailure {
        if spec.runsStockDistccd {
            return ClientFailure(
                .serverRefused, "distccd is not installed on \(spec) (its ',distccd' option runs '\(distccdCommand)')",
                details: ["  fix: install distcc on the host (Debian: apt-get install distcc), or drop ',distccd'"])
        }
        return ClientFailure(
            .serverRefused, "sshccd is not installed on \(spec) where its sshd_config says",
            details: ["  fix: install sshccd at the path of the host's `Subsystem \(subsystemName) ...` line"])
    }

    // MARK: Host key

    static func verifyHostKey(_ session: Session, spec: HostSpec, knownHosts: String) throws(ClientFailure) {
        let key = session.hostKey
        let name = spec.knownHostsName
        let portOption = spec.port == HostSpec.defaultPort ? "" : "-p \(spec.port) "
        switch KnownHosts.verify(key, name: name, path: knownHosts, session: session) {
        case .match:
            return
        case .unknown:
            throw ClientFailure(
                .hostKeyUnknown, "host key for \(name) is not known; refusing the host",
                details: [
                    "  The server offered \(key.typeName) key \(key.fingerprint).",
                    "  If that is the key of \(spec.host) (compare with `ssh-keygen -lf /etc/ssh/ssh_host_\(key.keyscanType)_key.pub` on it),",
                    "  add it to \(knownHosts):",
                    "    ssh-keyscan \(portOption)-t \(key.keyscanType) \(spec.host) >> \(knownHosts)",
                ])
        case .unreadableRevocation(let line):
            throw ClientFailure(
                .hostKeyChanged,
                "line \(line) of \(knownHosts) looks like a revocation but cannot be read; refusing the host",
                details: [
                    "  A key it meant to revoke cannot be told from others, so no host key is trusted until it is fixed:",
                    "  write it as `@revoked <host patterns> <key type> <base64 key>`, fields separated by spaces.",
                ])
        case .changed(let revoked):
            throw ClientFailure(
                .hostKeyChanged,
                revoked
                    ? "HOST KEY FOR \(name) IS REVOKED in \(knownHosts); refusing the host"
                    : "HOST KEY FOR \(name) HAS CHANGED; refusing the host, nothing was sent",
                details: [
                    "  @@@ Someone could be intercepting the connection (man-in-the-middle), or the host key was replaced. @@@",
                    "  The server offered \(key.typeName) key \(key.fingerprint), which does not match \(knownHosts).",
                    "  Only if you know the host key was replaced, remove the old entry and add the new one:",
                    "    ssh-keygen -R '\(name)' -f \(knownHosts)",
                    "    ssh-keyscan \(portOption)-t \(key.keyscanType) \(spec.host) >> \(knownHosts)",
                ])
        }
    }

    // MARK: Authentication

    /// SSHCC_IDENTITY alone when set; otherwise ssh-agent, then ~/.ssh/id_ed25519 and ~/.ssh/id_ecdsa.
    static func logIn(_ session: Session, spec: HostSpec, access: HostAccess, deadline: Deadline)
        throws(ClientFailure)
    {
        let user = spec.user ?? Environment.userName
        var offered: [OfferedKey] = []
        do {
            if let identity = access.identity {
                guard Files.exists(identity) else {
                    throw ClientFailure(.authFailed, "SSHCC_IDENTITY names \(identity), which does not exist")
                }
                offered.append(try session.authenticate(user: user, privateKey: identity, deadline: deadline))
            } else {
                if let agent = access.agentSocket {
                    offered += try session.authenticateWithAgent(user: user, socketPath: agent, deadline: deadline)
                }
                let home = Environment.home
                for path in [home + "/.ssh/id_ed25519", home + "/.ssh/id_ecdsa"]
                where Files.exists(path) && !offered.contains(where: { $0.outcome == .accepted }) {
                    offered.append(try session.authenticate(user: user, privateKey: path, deadline: deadline))
                }
            }
        } catch let error as SSHError {
            throw ClientFailure(.connectFailed, "lost \(spec) while logging in: \(error)")
        } catch let error as ClientFailure {
            throw error
        } catch {
            throw ClientFailure(.connectFailed, "\(error)")
        }
        if offered.contains(where: { $0.outcome == .accepted }) { return }
        throw authenticationFailure(offered, user: user, spec: spec)
    }

    static func authenticationFailure(_ offered: [OfferedKey], user: String, spec: HostSpec) -> ClientFailure {
        if offered.isEmpty {
            return ClientFailure(
                .authFailed, "no SSH key to log in to \(spec) as \(user)",
                details: [
                    "  fix: set SSHCC_IDENTITY to a private key, run ssh-agent, or create one: ssh-keygen -t ed25519"
                ])
        }
        var details = offered.map { key in
            let algorithm = key.algorithm.map { " (\($0))" } ?? ""
            switch key.outcome {
            case .unusable(let why): return "  \(key.source)\(algorithm) \(why)"
            default: return "  \(key.source)\(algorithm) was refused"
            }
        }
        if offered.contains(where: { $0.algorithm == "ssh-rsa" && $0.outcome == .rejected }) {
            details.append(
                "  RSA keys cannot work here: this libssh2 signs only with SHA-1 'ssh-rsa', which OpenSSH 8.8 and later refuse."
            )
            details.append("  fix: use an ed25519 key (ssh-keygen -t ed25519) and authorize it on the host")
        } else {
            details.append(
                "  fix: add the public key to ~\(user)/.ssh/authorized_keys on \(spec.host) (see Keys/README.md)")
        }
        return ClientFailure(.authFailed, "\(spec) refused every key for user \(user)", details: details)
    }
}
