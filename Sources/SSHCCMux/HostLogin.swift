// Reaching one compile host: connect, verify its host key, log in. Runs on a thread of its own (it
// blocks until its deadline) and hands the authenticated session to the host's driver. Each way this goes
// wrong becomes a SSHCCFailure whose text names the host and the fix; the wrapper prints it.

import CompileCore
import KnownHostsFormat
import MuxCore
import OpenSSHConfig
import POSIXSupport
import SSH

/// The subsystem name sshd_config maps to sshccd.
public let subsystemName = "sshcc"
/// What a `,distccd` host runs on each channel: Debian's distcc server serving one job on stdin/stdout.
public let distccdCommand = "distccd --inetd"

/// An authenticated session and how to keep it alive.
struct Connected {
    let session: Session
    /// Seconds between keepalives, and without an answer before the connection counts as dead.
    let keepalive: (interval: Int32, deadAfter: Int32)
}

enum HostLogin {
    /// An authenticated session to `spec`, or the reason there is none.
    static func connect(_ spec: HostSpec, access: HostAccess) throws(SSHCCFailure) -> Connected {
        let plan = try HostResolver.plan(spec, access: access)
        let session = try connect(spec, plan: plan, access: access)
        // ServerAliveInterval × ServerAliveCountMax from the configuration; else every 15 s, dead after 45.
        let interval = plan.host.serverAliveInterval > 0 ? Int32(plan.host.serverAliveInterval) : 15
        let deadAfter = plan.host.serverAliveInterval > 0 ? interval * Int32(max(plan.host.serverAliveCountMax, 1)) : 45
        return Connected(session: session, keepalive: (interval, deadAfter))
    }

    /// What each step of a connection found, for `sshcc doctor`.
    enum Step {
        case connected(nanoseconds: UInt64)
        /// The server's key and the known_hosts line that vouches for it (the `@cert-authority` one when
        /// `certified`).
        case hostKeyTrusted(HostKey, KnownHostsPlace, certified: Bool)
        case loggedIn(OfferedKey)
    }

    /// The steps of reaching a host, in order; `observe` hears each one that succeeded.
    static func connect(
        _ spec: HostSpec, plan: ConnectPlan, access: HostAccess, observe: (Step) -> Void = { _ in }
    ) throws(SSHCCFailure) -> Session {
        let deadline = Deadline(secondsFromNow: plan.connectTimeout)
        let known = try knownHosts(spec, plan: plan)
        let started = Monotonic.nanoseconds()
        let certificates = try HostCertificateCheck.prefetch(spec, plan: plan, known: known, deadline: deadline)
        let session = try openSession(spec, plan: plan, known: known, certified: certificates, deadline: deadline)
        observe(.connected(nanoseconds: Monotonic.nanoseconds() - started))
        let place = try verifyHostKey(
            session, spec: spec, plan: plan, known: known, certificates: certificates, deadline: deadline)
        observe(.hostKeyTrusted(session.hostKey, place, certified: certificates != nil))
        observe(.loggedIn(try logIn(session, spec: spec, plan: plan, access: access, deadline: deadline)))
        return session
    }

    /// The plan's known_hosts files; one that is there but cannot be read refuses the host.
    static func knownHosts(_ spec: HostSpec, plan: ConnectPlan) throws(SSHCCFailure) -> KnownHostsFiles {
        let known = KnownHostsFiles.read(plan.knownHostsFiles)
        if let (path, reason) = known.unreadable.first {
            throw SSHCCFailure(
                .hostKeyChanged, "cannot read the known_hosts file \(path) (\(reason)); refusing \(spec)",
                details: [
                    "  A revocation in it would go unseen: make it readable, or remove it from the configuration."
                ])
        }
        return known
    }

    /// The SSH session, host key not yet checked, asking for the key types known_hosts records.
    static func openSession(
        _ spec: HostSpec, plan: ConnectPlan, known: KnownHostsFiles, certified: FetchedCertificates?,
        deadline: Deadline
    ) throws(SSHCCFailure) -> Session {
        do {
            return try Session(
                host: plan.host.hostName, port: plan.host.port, deadline: deadline,
                compressed: spec.compressesConnection,
                hostKeyAlgorithms: known.algorithms(
                    for: plan.host.knownHostsName, first: certified?.keyTypes ?? []), route: plan.route)
        } catch {
            throw SSHCCFailure(
                .connectFailed, "cannot reach \(spec)\(via(spec, plan)): \(error)",
                details: [
                    "  compare with OpenSSH: ssh -v \(spec.port == HostSpec.defaultPort ? "" : "-p \(spec.port) ")\(spec.host) true"
                ])
        }
    }

    /// " (127.0.0.9 port 2200)" when the configuration turned the entry into another address.
    static func via(_ spec: HostSpec, _ plan: ConnectPlan) -> String {
        plan.host.hostName == spec.host && plan.host.port == spec.port
            ? "" : " (\(plan.host.hostName) port \(plan.host.port))"
    }

    /// The failure for a channel whose subsystem request was refused.
    static func noSubsystem(_ spec: HostSpec) -> SSHCCFailure {
        SSHCCFailure(
            .serverRefused, "\(spec) has no '\(subsystemName)' subsystem",
            details: [
                "  fix: add this line to the host's sshd_config and reload sshd:",
                "    Subsystem \(subsystemName) /usr/local/bin/sshccd",
            ])
    }

    /// The failure for a channel that closed with sshd's "command not found" status before replying.
    static func sshccdMissing(_ spec: HostSpec) -> SSHCCFailure {
        if spec.runsStockDistccd {
            return SSHCCFailure(
                .serverRefused, "distccd is not installed on \(spec) (its ',distccd' option runs '\(distccdCommand)')",
                details: ["  fix: install distcc on the host (Debian: apt-get install distcc), or drop ',distccd'"])
        }
        return SSHCCFailure(
            .serverRefused, "sshccd is not installed on \(spec) where its sshd_config says",
            details: ["  fix: install sshccd at the path of the host's `Subsystem \(subsystemName) ...` line"])
    }

    // MARK: Host key

    /// Where the host's key is recorded, or the failure.
    static func verifyHostKey(
        _ session: Session, spec: HostSpec, plan: ConnectPlan, known: KnownHostsFiles,
        certificates: FetchedCertificates?, deadline: Deadline
    ) throws(SSHCCFailure) -> KnownHostsPlace {
        let key = session.hostKey
        let name = plan.host.knownHostsName
        let files = plan.knownHostsFiles
        let userFile = files.first ?? "~/.ssh/known_hosts"
        let portOption = plan.host.port == HostSpec.defaultPort ? "" : "-p \(plan.host.port) "
        let keyscan = "ssh-keyscan \(portOption)-t \(key.keyscanType) \(plan.host.hostName)"
        let offered = "  The server offered \(key.typeName) key \(key.fingerprint)."
        switch known.check(key, name: name) {
        case .match(let place):
            return place
        case .unknown:
            throw SSHCCFailure(
                .hostKeyUnknown, "host key for \(name) is not known; refusing the host",
                details: [
                    offered,
                    "  Looked in: \(files.isEmpty ? "no known_hosts file" : files.joined(separator: " ")).",
                    "  If that is the key of \(plan.host.hostName) (compare with `ssh-keygen -lf /etc/ssh/ssh_host_\(key.keyscanType)_key.pub` on it),",
                    "  log in once with `ssh \(spec.host)` and accept it, or add it:",
                    "    \(keyscan) >> \(userFile)",
                ])
        case .unreadableRevocation(let place):
            throw SSHCCFailure(
                .hostKeyChanged,
                "line \(place.line) of \(place.path) looks like a revocation but cannot be read; refusing the host",
                details: [
                    "  A key it meant to revoke cannot be told from others, so no host key is trusted until it is fixed:",
                    "  write it as `@revoked <host patterns> <key type> <base64 key>`, fields separated by spaces.",
                ])
        case .revoked(let place):
            throw SSHCCFailure(
                .hostKeyChanged, "HOST KEY FOR \(name) IS REVOKED (\(place)); refusing the host, nothing was sent",
                details: [
                    offered,
                    "  The key is marked @revoked: it may have been stolen. Ask the host's administrator for its new key.",
                ])
        case .changed(let place):
            throw SSHCCFailure(
                .hostKeyChanged, "HOST KEY FOR \(name) HAS CHANGED; refusing the host, nothing was sent",
                details: [
                    "  @@@ Someone could be intercepting the connection (man-in-the-middle), or the host key was replaced. @@@",
                    offered,
                    "  It does not match the \(key.typeName) key recorded at \(place); `ssh \(spec.host)` would refuse it too.",
                    "  Check the fingerprint with the host's administrator (ssh-keygen -lf /etc/ssh/ssh_host_\(key.keyscanType)_key.pub).",
                    "  Only if you know the host key was replaced, remove the old entry and add the new one:",
                    "    ssh-keygen -R '\(name)' -f \(place.path)",
                    "    \(keyscan) >> \(place.path)",
                ])
        case .otherTypes(let place, let types):
            throw SSHCCFailure(
                .hostKeyChanged, "HOST KEY FOR \(name) IS NOT THE KIND RECORDED; refusing the host, nothing was sent",
                details: [
                    offered,
                    "  known_hosts holds only \(types.joined(separator: ", ")) keys for it (\(place)), which the server did not offer.",
                    "  A server that stops offering its recorded key type is what an attacker without the key looks like.",
                    "  Check with the host's administrator; `ssh \(spec.host)` shows what OpenSSH makes of it.",
                ])
        case .certificateExpected:
            return try HostCertificateCheck.verify(
                session, spec: spec, plan: plan, known: known, fetched: certificates, deadline: deadline)
        }
    }

    // MARK: Authentication

    /// The keys OpenSSH would offer, in its order (IdentityOrder): agent keys (only the configured ones with
    /// IdentitiesOnly), then the configured files the agent does not hold. Stops at the first accepted key.
    /// Returns the key that was accepted.
    static func logIn(_ session: Session, spec: HostSpec, plan: ConnectPlan, access: HostAccess, deadline: Deadline)
        throws(SSHCCFailure) -> OfferedKey
    {
        let user = plan.host.user.isEmpty ? Environment.userName : plan.host.user
        // A configured identity may be only its `.pub` when the agent holds the private key (as in OpenSSH).
        let files = plan.identities.filter { Files.exists($0) || Files.exists($0 + ".pub") }
        if let identity = access.identity, files.isEmpty {
            throw SSHCCFailure(.authFailed, "SSHCC_IDENTITY names \(identity), which does not exist")
        }
        let infos = Dictionary(files.map { ($0, KeyFileInfo.read(privateKey: $0)) }, uniquingKeysWith: { a, _ in a })
        let certificates = certificatesByIdentity(files, infos: infos, configured: plan.certificates)
        let agent = access.agentSocket.flatMap { Agent(session: session, socketPath: $0) }
        let order = IdentityOrder.plan(
            configured: files.map {
                ConfiguredIdentity(
                    path: $0, publicBlob: infos[$0]?.publicBlob,
                    certificateBlobs: (certificates[$0] ?? []).map(\.certificate.blob))
            },
            agentKeys: agent?.blobs ?? [], identitiesOnly: plan.identitiesOnly)
        var offered: [OfferedKey] = []
        var accepted: Bool { offered.contains(where: { $0.outcome == .accepted }) }
        do {
            for choice in order where !accepted {
                switch choice {
                case .agent(let index, _):
                    guard let agent else { continue }
                    if let certificate = UserCertificate(blob: agent.blobs[index]), !certificate.signableByLibssh2 {
                        // Offering it would only spend one of the server's MaxAuthTries on a bad signature.
                        offered.append(
                            OfferedKey(
                                source: "agent: " + agent.comments[index], algorithm: certificate.type,
                                outcome: .unusable(certificate.unusableReason)))
                        continue
                    }
                    offered.append(try session.authenticate(user: user, agent: agent, index: index, deadline: deadline))
                case .file(let path):
                    guard Files.exists(path) else { continue }
                    for (certificatePath, certificate) in certificates[path] ?? [] where !accepted {
                        offered.append(
                            certificate.signableByLibssh2
                                ? try session.authenticate(
                                    user: user, privateKey: path, certificate: certificatePath, deadline: deadline)
                                : OfferedKey(
                                    source: certificatePath, algorithm: certificate.type,
                                    outcome: .unusable(certificate.unusableReason)))
                    }
                    if !accepted {
                        offered.append(try session.authenticate(user: user, privateKey: path, deadline: deadline))
                    }
                }
            }
        } catch {
            // sshd ends a login on purpose after MaxAuthTries refused keys: retrying would only repeat it.
            // Any other end of the connection is a network failure, retried like one.
            if let closed = session.serverDisconnect, offered.contains(where: { $0.outcome == .rejected }) {
                throw authenticationFailure(offered, user: user, spec: spec, serverSaid: closed.message)
            }
            throw SSHCCFailure(.connectFailed, "lost \(spec) while logging in: \(error)\(tooManyTries(offered))")
        }
        if let key = offered.first(where: { $0.outcome == .accepted }) { return key }
        throw authenticationFailure(offered, user: user, spec: spec)
    }

    /// The certificates of each identity file: its `-cert.pub` and the CertificateFile entries that certify
    /// its key (OpenSSH pairs them by key, not by name).
    static func certificatesByIdentity(_ files: [String], infos: [String: KeyFileInfo], configured: [String])
        -> [String: [(path: String, certificate: UserCertificate)]]
    {
        var paths: [String] = []
        for path in configured + files.map({ $0 + "-cert.pub" }) where !paths.contains(path) { paths.append(path) }
        let certificates = paths.compactMap { path in
            KeyFileInfo.publicKey(file: path)?.blob.flatMap(UserCertificate.init(blob:)).map {
                (path: path, certificate: $0)
            }
        }
        var result: [String: [(path: String, certificate: UserCertificate)]] = [:]
        for file in files {
            guard let key = infos[file]?.publicBlob else { continue }
            result[file] = certificates.filter { $0.certificate.keyBlob == key }
        }
        return result
    }

    /// sshd drops the connection after MaxAuthTries refused keys: say so, and what helps.
    static func tooManyTries(_ offered: [OfferedKey]) -> String {
        offered.filter({ $0.outcome == .rejected }).count >= 5
            ? " after \(offered.count) keys were refused (the server's MaxAuthTries?); set IdentitiesOnly yes and IdentityFile for this host in ~/.ssh/config"
            : ""
    }

    /// Why no key logged in; `serverSaid` is the text of the server's DISCONNECT when it ended the login.
    static func authenticationFailure(_ offered: [OfferedKey], user: String, spec: HostSpec, serverSaid: String? = nil)
        -> SSHCCFailure
    {
        if offered.isEmpty {
            return SSHCCFailure(
                .authFailed, "no SSH key to log in to \(spec) as \(user)",
                details: [
                    "  fix: set SSHCC_IDENTITY to a private key, run ssh-agent, name one with IdentityFile in ~/.ssh/config,",
                    "  or create one: ssh-keygen -t ed25519",
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
        } else if offered.filter({ $0.outcome == .rejected }).count >= 5 || serverSaid != nil {
            details.append(
                "  \(offered.count) keys were offered: sshd stops after MaxAuthTries (6 by default), maybe before the right one."
            )
            details.append(
                "  fix: in ~/.ssh/config, give this host `IdentityFile <its key>` and `IdentitiesOnly yes` (ssh-agent may keep the key)"
            )
        } else if offered.allSatisfy({ if case .unusable = $0.outcome { true } else { false } }) {
            details.append("  No key could be offered: fix the ones above.")
        } else {
            details.append(
                "  fix: add the public key to ~\(user)/.ssh/authorized_keys on \(spec.host) (see Keys/README.md)")
        }
        if let serverSaid {
            details.insert("  The server ended the login: \"\(shown(serverSaid))\"", at: 0)
        }
        let verdict =
            offered.contains(where: { $0.outcome == .rejected })
            ? "refused every key" : "could not be offered a usable key"
        return SSHCCFailure(.authFailed, "\(spec) \(verdict) for user \(user)", details: details)
    }
}
