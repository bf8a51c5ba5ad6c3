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
        do {
            try Files.makePrivateDirectory(paths.directory)
            let lock = try FileLock(path: paths.startLock)
            defer { withExtendedLifetime(lock) {} }
            if let fd = try? UnixSocket.connect(to: paths.socket) { return fd }
            try start(paths)
            return try UnixSocket.connect(to: paths.socket)
        } catch let error as SystemError {
            throw ClientFailure(.localIOError, "cannot start the mux daemon in \(paths.directory): \(error)")
        } catch let error as ClientFailure {
            throw error
        } catch {
            throw ClientFailure(.localIOError, "cannot start the mux daemon: \(error)")
        }
    }

    /// Spawns the daemon and waits (10 s at most) until it listens.
    static func start(_ paths: MuxPaths) throws -> Void {
        guard let me = Wrapper.realPath("/proc/self/exe") else {
            throw ClientFailure(.localIOError, "cannot find this sshcc executable to start the mux daemon")
        }
        let executable = String(me[..<(me.lastIndex(of: "/") ?? me.startIndex)]) + "/sshcc-mux"
        guard Files.isExecutableFile(executable) else {
            throw ClientFailure(
                .localIOError, "cannot start the mux daemon: \(executable) is missing",
                details: ["  fix: install sshcc-mux in the same directory as sshcc"])
        }
        var ready: [Int32] = [-1, -1]
        try SystemError.check("pipe") { sshcc_pipe_cloexec(&ready) }
        defer { close(ready[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        posix_spawn_file_actions_adddup2(&actions, ready[1], 3)
        sshcc_spawn_addclosefrom(&actions, 4)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF) | sshcc_spawn_setsid_flag())

        setenv("SSHCC_DIR", paths.directory, 1)
        var pid = pid_t()
        let arguments = ["sshcc-mux", "--ready-fd", "3"]
        let result = Subprocess.withCStrings(arguments) { argv in
            posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        close(ready[1])
        guard result == 0 else { throw SystemError("start", path: executable, errno: .init(rawValue: result)) }

        var poller = pollfd(fd: ready[0], events: Int16(POLLIN), revents: 0)
        let deadline = Deadline(secondsFromNow: 10)
        while poll(&poller, 1, deadline.remainingMilliseconds) < 0 && errno == EINTR {}
        var byte: UInt8 = 0
        guard read(ready[0], &byte, 1) == 1 else {
            throw ClientFailure(
                .localIOError, "the mux daemon did not start (pid \(pid)); see \(paths.log)")
        }
    }
}
