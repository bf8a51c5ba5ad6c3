// sshcc-mux: the per-user mux daemon, started on demand by the first sshcc wrapper that needs it (never
// by hand, though `sshcc-mux` alone runs it in the foreground). Its usage text is also its man page's source. A separate executable so the wrapper, which
// starts for every compile, does not load libssh2 and libcrypto (measured: 3.0 vs 2.1 ms per start).

import CompileCore
import Logging
import MuxCore
import POSIXSupport
import SSHCCMux

let arguments = CommandLine.arguments
let usage = """
    Usage: sshcc-mux [--ready-fd N]
      or:  sshcc-mux --version | --help

    The per-user mux daemon of sshcc: it keeps one authenticated SSH connection per compile server, several
    channels on each with sshccd (or distccd) running, and hands them the jobs of every sshcc wrapper of
    this user. The first wrapper that needs it starts it (with --ready-fd, the pipe it reports on); run
    alone, it serves in the foreground. It exits after SSHCC_IDLE_TIMEOUT seconds (default 600) without
    work, or on `sshcc --stop`.

    Its socket, log (mux.log) and pid file are in SSHCC_DIR (default $XDG_RUNTIME_DIR/sshcc, else
    /tmp/sshcc-UID), a directory that must be this user's alone. It reads the settings sshcc documents:
    SSHCC_HOSTS, SSHCC_IDENTITY, SSHCC_KNOWN_HOSTS, SSHCC_SSH_CONFIG, SSHCC_CONNECT_TIMEOUT,
    SSHCC_IO_TIMEOUT, SSHCC_BACKOFF (seconds a failed host gets no jobs, default 60), SSHCC_LOG_LEVEL
    (info: connections, failures and backoffs are logged; debug: every job too), SSHCC_ASK (auto, always or
    never: whether a job asks a server with an object cache for its result before sending its source).

    """
func refuse(_ message: String) -> Never {
    try? Console.write(Array("sshcc-mux: \(message) (sshcc-mux --help)\n".utf8), to: .error)
    CurrentProcess.exit(ExitCode.usage.rawValue)
}
switch arguments.dropFirst().first {
case "--help", "-h":
    guard arguments.count == 2 else { refuse("--help takes nothing after it") }
    try? Console.write(Array(usage.utf8), to: .output)
    CurrentProcess.exit(0)
case "--version":
    guard arguments.count == 2 else { refuse("--version takes nothing after it") }
    try? Console.write(
        Array(
            "sshcc-mux \(SSHCCVersion.string) (mux protocol \(MuxVersion.protocolNumber); distcc protocols 1, 2, 4, 5, 6 and 7 to its hosts)\n"
                .utf8), to: .output)
    CurrentProcess.exit(0)
case nil, "--doctor", "--ready-fd": break
case let other?: refuse("unknown option '\(shown(other, limit: 60))'")
}
// `sshcc doctor` runs here, where libssh2 is: `--doctor LIST-SOURCE ENTRY…`, settings from the environment.
if arguments.count >= 3 && arguments[1] == "--doctor" {
    do {
        let specs = try arguments.dropFirst(3).map { entry throws(HostSpecError) in try HostList.parseEntry(entry) }
        CurrentProcess.exit(
            Doctor.run(specs, access: HostAccess.from(environment: Environment.get), listSource: arguments[2]))
    } catch {
        try? Console.write(Array("sshcc doctor: \(error)\n".utf8), to: .error)
        CurrentProcess.exit(ExitCode.badHostSpec.rawValue)
    }
}
// The launcher's pipe, passed as a descriptor of ours (`--ready-fd 3`).
var ready: FileDescriptor?
if arguments.count >= 2 && arguments[1] == "--ready-fd" {
    guard arguments.count == 3, let number = Int32(arguments[2]), number > 2 else {
        refuse("--ready-fd needs a descriptor number above 2, and nothing after it")
    }
    ready = FileDescriptor(owning: number)
}
let settings = MuxDaemon.Settings(
    paths: MuxPaths.resolve(
        sshccDir: Environment.get("SSHCC_DIR"), runtimeDir: Environment.get("XDG_RUNTIME_DIR"),
        uid: CurrentProcess.userID),
    idleTimeout: Environment.seconds("SSHCC_IDLE_TIMEOUT", default: 600),
    backoff: Environment.seconds("SSHCC_BACKOFF", default: 60),
    logLevel: Environment.get("SSHCC_LOG_LEVEL") == "debug" ? .debug : .info,
    ask: Environment.get("SSHCC_ASK").flatMap(AskFirst.Mode.init(rawValue:)) ?? .auto)
CurrentProcess.exit(MuxDaemon.run(settings, ready: ready.take()))
