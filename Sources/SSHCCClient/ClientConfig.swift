// The wrapper's settings, all from the environment (a compiler wrapper has no command line of its own):
// SSHCC_HOSTS or the hosts file, SSHCC_IDENTITY, SSHCC_KNOWN_HOSTS, SSHCC_SSH_CONFIG, SSHCC_FALLBACK,
// timeouts, verbosity. What is not set here comes from the user's SSH configuration (the mux daemon asks
// `ssh -G`), then from sshcc's defaults.

import CompileCore
import MuxCore
import POSIXSupport

/// Settings read once per wrapper process.
public struct ClientConfig: Sendable {
    public var home: String
    /// How the daemon reaches hosts for this wrapper: SSHCC_IDENTITY, SSHCC_KNOWN_HOSTS, SSH_AUTH_SOCK,
    /// SSHCC_SSH_CONFIG, the timeouts.
    public var access: HostAccess
    public var fallback: Bool
    public var verbose: Bool
    /// SSHCC_DIAGNOSTICS=remote prints the server's messages as they came, without re-rendering locally.
    public var renderDiagnosticsLocally: Bool
    /// SSHCC_DIR: where the mux daemon's socket and log live.
    public var muxPaths: MuxPaths
    /// Run cc1 without gcc's driver once its command for the flags is known (SSHCC_PREPROCESSOR=driver: no).
    public var preprocessWithoutDriver = true

    public static func fromEnvironment() -> ClientConfig {
        ClientConfig(
            home: Environment.home, access: HostAccess.from(environment: Environment.get),
            fallback: Environment.get("SSHCC_FALLBACK") != "0",
            verbose: (Environment.get("SSHCC_VERBOSE") ?? "0") != "0",
            renderDiagnosticsLocally: Environment.get("SSHCC_DIAGNOSTICS") != "remote",
            muxPaths: MuxPaths.resolve(
                sshccDir: Environment.get("SSHCC_DIR"), runtimeDir: Environment.get("XDG_RUNTIME_DIR"),
                uid: CurrentProcess.userID),
            preprocessWithoutDriver: Environment.get("SSHCC_PREPROCESSOR") != "driver")
    }

    /// SSHCC_HOSTS, else $XDG_CONFIG_HOME/sshcc/hosts, else ~/.config/sshcc/hosts (README, "Using it").
    /// A hosts file that is there but cannot be read (a FIFO, a directory, no permission) is an error, not
    /// an empty list.
    static func hostList(home: String) throws(SSHCCFailure) -> (source: String, text: String) {
        if let hosts = Environment.get("SSHCC_HOSTS") { return ("SSHCC_HOSTS", hosts) }
        let config = Environment.get("XDG_CONFIG_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
        let path = config + "/sshcc/hosts"
        guard Files.exists(path) else { return ("no host list (set SSHCC_HOSTS or write \(path))", "") }
        do {
            return (path, String(decoding: try Files.read(path, limit: 1024 * 1024), as: UTF8.self))
        } catch {
            throw SSHCCFailure(.badHostSpec, "cannot read the host list: \(error)")
        }
    }

    /// The parsed host list and where it came from (for messages). Read only when a job is distributed:
    /// commands that run locally (links, -E) never touch the hosts file. Bad entries are left out and listed
    /// (`SOURCE line N: …`); a list with nothing but bad entries is an error.
    public func hosts() throws(SSHCCFailure) -> (specs: [HostSpec], source: String, text: String, problems: [String]) {
        let (source, text) = try Self.hostList(home: home)
        let (specs, problems) = HostList.parseSkippingBad(text)
        let named = problems.map { "\(source) \($0)" }
        if specs.isEmpty, let first = named.first {
            throw SSHCCFailure(.badHostSpec, first, details: named.dropFirst().map { "  also \($0)" })
        }
        return (specs, source, text, named)
    }
}
