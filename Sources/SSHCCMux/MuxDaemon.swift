// The per-user mux daemon's life: take the socket in SSHCC_DIR, tell the wrapper that started it that it
// is ready, accept wrappers (same uid only) each on a thread, exit after the idle time, on SIGTERM or on
// `sshcc --stop`. Started by a wrapper as `sshcc-mux --ready-fd 3` (see DaemonLauncher in SSHCCClient).

import CompileCore
import FileLogging
import Logging
import MuxCore
import POSIXSupport

#if canImport(Glibc)
    import Glibc
#endif

public enum MuxDaemon {
    /// Settings from the environment the starting wrapper passed down.
    public struct Settings: Sendable {
        public var paths: MuxPaths
        /// SSHCC_IDLE_TIMEOUT: seconds without wrappers or jobs before the daemon exits (default 600).
        public var idleTimeout: Double
        /// SSHCC_BACKOFF: seconds a failed host is left alone before it is probed again (default 60).
        public var backoff: Double

        public init(paths: MuxPaths, idleTimeout: Double, backoff: Double) {
            self.paths = paths
            self.idleTimeout = idleTimeout
            self.backoff = backoff
        }
    }

    public static let versionLine = MuxVersion.line(build: SSHCCVersion.string)

    /// Runs the daemon until it stops; `readyFD` gets one byte once the socket accepts connections.
    public static func run(_ settings: Settings, readyFD: Int32?) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let paths = settings.paths
        do {
            try Files.makePrivateDirectory(paths.directory)
        } catch {
            Console.error("sshcc mux daemon: \(error)\n")
            return ExitCode.localIOError.rawValue
        }
        let logger = Logger(label: "sshcc-mux") { label in FileLogHandler(label: label, path: paths.log) }
        let listener: Int32
        do {
            listener = try UnixSocket.listen(at: paths.socket)
        } catch {
            logger.error("cannot listen: \(error)")
            return ExitCode.localIOError.rawValue
        }
        let socketIdentity = fileIdentity(paths.socket)
        try? Files.replace(paths.pidFile, Array("\(getpid())\n".utf8))

        // SIGTERM, SIGINT, SIGHUP and `sshcc --stop` all end the loop through the one signal pipe.
        let stop = SignalPipe.install([SIGTERM, SIGINT, SIGHUP])
        let dispatcher = Dispatcher(backoff: settings.backoff)
        logger.info(
            "started: pid \(getpid()), \(versionLine), idle timeout \(Int(settings.idleTimeout)) s, backoff \(Int(settings.backoff)) s"
        )
        if let readyFD {
            var byte: UInt8 = 1
            _ = write(readyFD, &byte, 1)
            close(readyFD)
        }

        var reason = "idle for \(Int(settings.idleTimeout)) s"
        loop: while true {
            var fds = [
                pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stop?.pollDescriptor ?? -1, events: Int16(POLLIN), revents: 0),
            ]
            _ = poll(&fds, 2, 1000)
            if fds[1].revents != 0 {
                reason = "asked to stop"
                break
            }
            if fds[0].revents != 0, let client = try? UnixSocket.accept(listener) {
                guard UnixSocket.peerUID(client) == getuid() else {
                    logger.warning("refused a connection from another user")
                    close(client)
                    continue
                }
                let handler = ClientHandler(
                    fd: client, dispatcher: dispatcher, logger: logger, version: versionLine,
                    onStop: {
                        // Give up the socket before answering: the wrapper that asked may start a new
                        // daemon as soon as it reads the answer.
                        releasePaths(paths, socketIdentity)
                        stop?.ring()
                    },
                    status: { dispatcher.statusReport().render(pid: getpid(), directory: paths.directory) })
                Threads.spawn { handler.serve() }
                continue
            }
            if let idle = dispatcher.idleSeconds {
                if idle >= settings.idleTimeout { break loop }
                // Another daemon took the socket path (it was removed by hand): leave once idle.
                if fileIdentity(paths.socket) != socketIdentity {
                    reason = "the socket now belongs to another daemon"
                    break loop
                }
            }
        }
        // Stop taking wrappers at once: the next one starts a fresh daemon.
        releasePaths(paths, socketIdentity)
        close(listener)
        logger.info("stopping: \(reason)")
        dispatcher.stopDrivers()
        // Give the drivers a moment to close their channels politely.
        usleep(200_000)
        return 0
    }

    /// Removes the socket and pid file if they are still this daemon's.
    static func releasePaths(_ paths: MuxPaths, _ identity: [UInt64]?) {
        guard fileIdentity(paths.socket) == identity else { return }
        unlink(paths.socket)
        unlink(paths.pidFile)
    }

    /// Device and inode, to tell our socket from a newer daemon's at the same path.
    static func fileIdentity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }
}
