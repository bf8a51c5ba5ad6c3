// sshcc: the compiler wrapper (`sshcc gcc -c x.c`, or a symlink named like a compiler), and, started by
// a wrapper as `sshcc --mux-daemon`, the per-user mux daemon. All logic lives in SSHCCClient and SSHCCMux;
// this file only hands over argv and exits with the status.

import MuxCore
import POSIXSupport
import SSHCCClient
import SSHCCMux

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
if arguments.count >= 2 && arguments[1] == "--mux-daemon" {
    let readyFD = arguments.count >= 4 && arguments[2] == "--ready-fd" ? Int32(arguments[3]) : nil
    let settings = MuxDaemon.Settings(
        paths: MuxPaths.resolve(
            sshccDir: Environment.get("SSHCC_DIR"), runtimeDir: Environment.get("XDG_RUNTIME_DIR"), uid: getuid()),
        idleTimeout: Environment.seconds("SSHCC_IDLE_TIMEOUT", default: 600),
        backoff: Environment.seconds("SSHCC_BACKOFF", default: 60))
    exit(MuxDaemon.run(settings, readyFD: readyFD))
}
exit(Wrapper.main(arguments))
