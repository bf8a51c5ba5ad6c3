// Reaching the per-user mux daemon, starting it when nobody has. 32 wrappers that start at once take a
// lock file in turn: the first starts the daemon and waits for its "ready" byte, the others then find the
// socket answering. The daemon is `sshcc-mux`, installed next to sshcc, in a session of its own,
// with /dev/null for stdio and no other inherited descriptor (a build's pipes must not wait on it).

import CPOSIX
import CompileCore
import MuxCore
import POSIXSupport

#if canImport(Glibc)
    import Glibc
#endif

enum DaemonLauncher {
    /// A connection to the daemon, started if needed.
    static func connect(_ paths: MuxPaths) throws(ClientFailure) -> Int32 {
        if let fd = try? UnixSocket.connect(to: paths.socket) { return fd }
        do throws(SystemError) {
            try Files.makePrivateDirectory(paths.directory)
            let lock = try FileLock(path: paths.startLock)
            defer { withExtendedLifetime(lock) {} }
            if let fd = try? UnixSocket.connect(to: paths.socket) { return fd }
            try start(paths)
            return try UnixSocket.connect(to: paths.socket)
        } catch {
            throw ClientFailure(.localIOError, "cannot start the mux daemon in \(paths.directory): \(error)")
        }
    }

    /// Spawns `sshcc-mux` from sshcc's own directory and waits (10 s at most) until it listens.
    static func start(_ paths: MuxPaths) throws(SystemError) {
        let me = Wrapper.realPath("/proc/self/exe") ?? "/proc/self/exe"
        let executable = String(me[..<(me.lastIndex(of: "/") ?? me.startIndex)]) + "/sshcc-mux"
        guard Files.isExecutableFile(executable) else {
            throw SystemError(
                "find sshcc-mux (install it next to sshcc)", path: executable, errno: .noSuchFileOrDirectory)
        }
        var ready: [Int32] = [-1, -1]
        try SystemError.check("pipe") { sshcc_pipe_cloexec(&ready) }
        defer { close(ready[0]) }
        setenv("SSHCC_DIR", paths.directory, 1)
        let pid: pid_t
        do {
            pid = try Subprocess.spawnDetached(
                executable: executable, arguments: ["sshcc-mux", "--ready-fd", "3"], passing: ready[1])
        } catch {
            close(ready[1])
            throw error
        }
        close(ready[1])

        var poller = pollfd(fd: ready[0], events: Int16(POLLIN), revents: 0)
        let deadline = Deadline(secondsFromNow: 10)
        while poll(&poller, 1, deadline.remainingMilliseconds) < 0 && errno == EINTR {}
        var byte: UInt8 = 0
        guard read(ready[0], &byte, 1) == 1 else {
            throw SystemError("wait for sshcc-mux (pid \(pid)) to listen; see \(paths.log)", errno: .timedOut)
        }
    }
}
