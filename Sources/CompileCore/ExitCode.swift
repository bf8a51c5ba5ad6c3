// sshcc's and sshccd's own exit codes. They sit above 100 so that a build never mistakes them for a
// compiler's status (gcc uses 0, 1 and 4). Documented in Docs/exit-codes.md; keep the two in step.

/// Exit codes of sshcc and sshccd themselves. A compile's own status is passed through unchanged.
public enum ExitCode: Int32, Sendable, CaseIterable {
    /// sshcc was called without a compiler, or with an option it does not know.
    case usage = 101
    /// A host entry in SSHCC_HOSTS or the hosts file does not parse.
    case badHostSpec = 102
    /// SSHCC_FALLBACK=0 and no compile host is configured.
    case noHosts = 103
    /// The host could not be reached: DNS, TCP, SSH handshake, timeout, or the connection dropped.
    case connectFailed = 104
    /// The server's host key is not in known_hosts.
    case hostKeyUnknown = 105
    /// The server's host key differs from the one in known_hosts.
    case hostKeyChanged = 106
    /// The server refused every key offered.
    case authFailed = 107
    /// The server refused the job: no sshcc subsystem, compiler not allowed, argument refused.
    case serverRefused = 108
    /// The peer sent data that is not the distcc protocol.
    case protocolError = 109
    /// A local file could not be read or written (input, object, dependency file).
    case localIOError = 110
    /// The compiler named on the command line is not on PATH.
    case compilerMissing = 111
    /// The remote compiler was killed by a signal (a server limit, or the server going down).
    case remoteCrashed = 112
    /// sshccd: the stream ended in the middle of a request (the client gave up).
    case truncatedRequest = 113
    /// sshcc: the mux daemon's directory or socket is not this user's alone (another user could read the jobs
    /// or forge the answers): nothing was sent.
    case untrustedPath = 114
    /// sshcc: no compile host has the local compiler's toolchain (each host that differs was named once, when
    /// the daemon found out).
    case toolchainDiffers = 115

}
