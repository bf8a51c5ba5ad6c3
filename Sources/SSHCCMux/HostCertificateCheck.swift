// Host certificates without libssh2's help. libssh2 cannot receive a certificate in the key exchange, but
// it does prove that the server holds the private half of the plain key it offered. A certificate is a
// signed public statement: wherever it comes from, if it certifies exactly that key, for this host, signed
// by a CA that known_hosts trusts for the host, it vouches for the server as it would inside the key
// exchange. So the certificate is fetched with OpenSSH's `ssh-keyscan -c` (which asks the server for it)
// and checked here (OpenSSHCertificate: role, key, CA, revocation, signature, validity, principals). An
// attacker on the keyscan's path can withhold the certificate, never forge one for another key.

import CompileCore
import KnownHostsFormat
import POSIXSupport
import SSH

/// The certificates a server presented to ssh-keyscan, and the command, for messages.
struct FetchedCertificates {
    var certificates: [OpenSSHCertificate]
    var command: String

    /// The plain key types certified, to ask the server for one of them first.
    var keyTypes: [String] {
        var types: [String] = []
        for certificate in certificates where !types.contains(certificate.keyType) { types.append(certificate.keyType) }
        return types
    }
}

enum HostCertificateCheck {
    /// For a host known_hosts trusts only through a CA: its certificates, fetched before connecting so that
    /// the key exchange asks for a certified key type (OpenSSH asks for the certificate types themselves).
    /// Nil for any other host.
    static func prefetch(_ spec: HostSpec, plan: ConnectPlan, known: KnownHostsFiles, deadline: Deadline)
        throws(SSHCCFailure) -> FetchedCertificates?
    {
        let name = plan.host.knownHostsName
        guard !known.authorities(for: name).isEmpty, !known.recordsPlainKeys(for: name) else { return nil }
        return try fetch(spec, plan: plan, types: ["ed25519", "ecdsa", "rsa"], deadline: deadline)
    }

    /// `ssh-keyscan -c` for `types` (its `-t` names), read.
    static func fetch(_ spec: HostSpec, plan: ConnectPlan, types: [String], deadline: Deadline)
        throws(SSHCCFailure) -> FetchedCertificates
    {
        let name = plan.host.knownHostsName
        func refuse(_ why: String, _ more: [String] = []) -> SSHCCFailure {
            SSHCCFailure(
                .hostKeyUnknown,
                "\(name) is trusted only through a CA, and its host certificate \(why); refusing the host, nothing was sent",
                details: more)
        }
        guard case .direct = plan.route else {
            throw refuse(
                "cannot be fetched through a jump host",
                [
                    "  sshcc checks host certificates with ssh-keyscan, which connects directly; record the host's plain key."
                ])
        }
        guard let keyscan = Environment.findExecutable("ssh-keyscan") else {
            throw refuse("cannot be fetched: ssh-keyscan (openssh-client) is not installed")
        }
        let seconds = max(1, Int(Double(deadline.remainingMilliseconds) / 1000))
        let arguments = [
            "ssh-keyscan", "-c", "-T", String(seconds), "-p", String(plan.host.port), "-t",
            types.joined(separator: ","), plan.host.hostName,
        ]
        let result: ProcessResult
        do {
            result = try Subprocess.run(executable: keyscan, arguments: arguments, captureLimit: 256 * 1024)
        } catch {
            throw refuse("cannot be fetched: \(error)")
        }
        let certificates = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").compactMap {
            line -> OpenSSHCertificate? in
            // `TYPE BASE64` (ssh-keyscan -c prints no host name before a certificate).
            let fields = line.split(separator: " ")
            guard !line.hasPrefix("#"),
                let type = fields.firstIndex(where: { $0.hasSuffix(OpenSSHCertificate.typeSuffix) }),
                type + 1 < fields.count
            else { return nil }
            return Base64Text.decode(String(fields[type + 1])).flatMap(OpenSSHCertificate.init(blob:))
        }
        return FetchedCertificates(certificates: certificates, command: arguments.joined(separator: " "))
    }

    /// The `@cert-authority` line that vouches for the server's key, or the failure. `fetched`: the
    /// certificates fetched before connecting, if they were.
    static func verify(
        _ session: Session, spec: HostSpec, plan: ConnectPlan, known: KnownHostsFiles, fetched: FetchedCertificates?,
        deadline: Deadline
    ) throws(SSHCCFailure) -> KnownHostsPlace {
        let key = session.hostKey
        let name = plan.host.knownHostsName
        let authorities = known.authorities(for: name)
        let fetched =
            if let fetched { fetched } else {
                try fetch(spec, plan: plan, types: [key.keyscanType], deadline: deadline)
            }
        let offered = "  The server offered \(key.typeName) key \(key.fingerprint), trusted here only through a CA."
        let certificates = fetched.certificates.filter { $0.keyBlob == key.bytes }
        guard !certificates.isEmpty else {
            throw SSHCCFailure(
                .hostKeyUnknown,
                "\(name) is trusted only through a CA, and it presented no certificate for its key; refusing the host, nothing was sent",
                details: [
                    offered,
                    "  The server has no certificate for its \(key.typeName) key (sshd_config HostCertificate), or it",
                    "  could not be fetched: \(fetched.command)",
                ])
        }
        let principal = plan.host.hostKeyAlias ?? plan.host.hostName
        var problems: [String] = []
        for certificate in certificates {
            let problem = certificate.problem(
                hostKey: key.bytes, hostName: principal, now: CurrentProcess.unixTime,
                authorities: authorities.map(\.key), isRevoked: known.isRevoked,
                signatureIsValid: CertificateSignature.isValid)
            guard let problem else {
                return authorities.first { $0.key == certificate.authorityKey }!.place
            }
            problems.append(
                "  certificate '\(shown(certificate.keyID, limit: 200))' (serial \(certificate.serial)): \(problem)")
        }
        throw SSHCCFailure(
            .hostKeyChanged, "HOST CERTIFICATE FOR \(name) DOES NOT VERIFY; refusing the host, nothing was sent",
            details: [offered] + problems)
    }
}
