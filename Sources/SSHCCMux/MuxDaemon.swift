// The per-user mux daemon's life: take the socket in SSHCC_DIR, tell the wrapper that started it that it
// is ready, accept wrappers (same uid only) each on a thread, exit after the idle time, on SIGTERM or on
// `sshcc --stop`. Started by a wrapper as `sshcc-mux --ready-fd 3` (see DaemonLauncher in SSHCCClient).

import CompileCore
import FileLogging
import Logging
import MuxCore
import POSIXSupport

public enum MuxDaemon {
    /// Settings from the environment the starting wrapper passed down.
    public struct Settings: Sendable {
        public var paths: MuxPaths
        /// SSHCC_IDLE_TIMEOUT: seconds without wrappers or jobs before the daemon exits (default 600).
        public var idleTimeout: Double
        /// SSHCC_BACKOFF: seconds a failed host is left alone before it is probed again (default 60).
        public var backoff: Double
        /// SSHCC_LOG_LEVEL: `info` (default: connections, failures, backoffs) or `debug` (also every job).
        public var logLevel: Logger.Level
        /// SSHCC_ASK: `auto` (default), `always` or `never` ask for a job's result before sending its source.
        public var ask: AskFirst.Mode

        public init(
            paths: MuxPaths, idleTimeout: Double, backoff: Double, logLevel: Logger.Level = .info,
            ask: AskFirst.Mode = .auto
        ) {
            self.paths = paths
            self.idleTimeout = idleTimeout
            self.backoff = backoff
            self.logLevel = logLevel
            self.ask = ask
        }
    }

    public static let versionLine = MuxVersion.line(build: SSHCCVersion.string)

    /// Runs the daemon until it stops; `ready` gets one byte (and is closed) once the socket accepts
    /// connections.
    public static func run(_ settings: Settings, ready: consuming FileDescriptor?) -> Int32 {
        CurrentProcess.ignoreBrokenPipes()
        let paths = settings.paths
        do {
            try Files.makePrivateDirectory(paths.directory)
        } catch {
            Console.error("sshcc mux daemon: \(error)\n")
            return ExitCode.localIOError.rawValue
        }
        var logger = Logger(label: "sshcc-mux") { label in FileLogHandler(label: label, path: paths.log) }
        logger.logLevel = settings.logLevel
        let listener: FileDescriptor
        do {
            listener = try UnixSocket.listen(at: paths.socket)
        } catch {
            logger.error("cannot listen: \(error)")
            return ExitCode.localIOError.rawValue
        }
        let socketIdentity = Files.identity(paths.socket)
        try? Files.replace(paths.pidFile, Array("\(CurrentProcess.id)\n".utf8))

        // SIGTERM, SIGINT, SIGHUP and `sshcc --stop` all end the loop through the one signal pipe.
        let stop = SignalPipe.install([.terminate, .interrupt, .hangUp])
        let dispatcher = Dispatcher(
            backoff: settings.backoff, ask: settings.ask, logger: logger, speedsPath: paths.directory + "/speeds")
        logger.info(
            "started: pid \(CurrentProcess.id), \(versionLine), idle timeout \(Int(settings.idleTimeout)) s, backoff \(Int(settings.backoff)) s"
        )
        if let ready = ready.take() { try? FileDescriptorIO.writeAll(ready, [1]) }

        var reason = "idle for \(Int(settings.idleTimeout)) s"
        loop: while true {
            // A tenth of a second: placement looks again as time passes (Dispatcher.tick).
            let ready = Poll.wait([Poll.Entry(listener), stop?.pollEntry ?? .nothing], milliseconds: 100)
            dispatcher.tick()
            if ready[1] {
                reason = "asked to stop"
                break
            }
            if ready[0], let client = try? UnixSocket.accept(listener) {
                guard UnixSocket.peerUID(client) == CurrentProcess.userID else {
                    logger.warning("refused a connection from another user")
                    continue
                }
                let handler = ClientHandler(
                    connection: client, dispatcher: dispatcher, logger: logger, version: versionLine,
                    onStop: {
                        // Give up the socket before answering: the wrapper that asked may start a new
                        // daemon as soon as it reads the answer.
                        releasePaths(paths, socketIdentity)
                        stop?.ring()
                    },
                    status: { json in
                        let report = dispatcher.statusReport()
                        return json
                            ? report.json(pid: CurrentProcess.id, directory: paths.directory)
                            : report.render(pid: CurrentProcess.id, directory: paths.directory)
                    })
                Threads.spawn { handler.serve() }
                continue
            }
            if let idle = dispatcher.idleSeconds {
                if idle >= settings.idleTimeout { break loop }
                // Another daemon took the socket path (it was removed by hand): leave once idle.
                if Files.identity(paths.socket) != socketIdentity {
                    reason = "the socket now belongs to another daemon"
                    break loop
                }
            }
        }
        // Stop taking wrappers at once: the next one starts a fresh daemon.
        releasePaths(paths, socketIdentity)
        listener.close()
        logger.info("stopping: \(reason)")
        dispatcher.stopDrivers()
        // Give the drivers a moment to close their channels politely.
        CurrentProcess.sleep(milliseconds: 200)
        return 0
    }

    /// Removes the socket and pid file if they are still this daemon's.
    static func releasePaths(_ paths: MuxPaths, _ identity: [UInt64]?) {
        guard Files.identity(paths.socket) == identity else { return }
        Files.remove(paths.socket)
        Files.remove(paths.pidFile)
    }
}
