// sshcc-mux: the per-user mux daemon, started on demand by the first sshcc wrapper that needs it (never
// by hand, though `sshcc-mux` alone runs it in the foreground). A separate executable so the wrapper, which
// starts for every compile, does not load libssh2 and libcrypto (measured: 3.0 vs 2.1 ms per start).

import CompileCore
import MuxCore
import POSIXSupport
import SSHCCMux

let arguments = CommandLine.arguments
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
if arguments.count >= 3 && arguments[1] == "--ready-fd", let number = Int32(arguments[2]), number > 2 {
    ready = FileDescriptor(owning: number)
}
let settings = MuxDaemon.Settings(
    paths: MuxPaths.resolve(
        sshccDir: Environment.get("SSHCC_DIR"), runtimeDir: Environment.get("XDG_RUNTIME_DIR"),
        uid: CurrentProcess.userID),
    idleTimeout: Environment.seconds("SSHCC_IDLE_TIMEOUT", default: 600),
    backoff: Environment.seconds("SSHCC_BACKOFF", default: 60))
CurrentProcess.exit(MuxDaemon.run(settings, ready: ready.take()))
