// Reaching the per-user mux daemon, starting it when nobody has. 32 wrappers that start at once take a
// lock file in turn: the first starts the daemon and waits for its "ready" byte, the others then find the
// socket answering. The daemon is `sshcc-mux`, installed next to sshcc, in a session of its own,
// with /dev/null for stdio and no other inherited descriptor (a build's pipes must not wait on it).

import CPOSIX
import CompileCore
import MuxCore
import POSIXSupport

enum DaemonLauncher {
    /// A connection to the daemon, started if needed. The directory is checked (made if missing) before
    /// anything is connected, and the peer after: the job goes only to this user's own sshcc-mux.
    static func connect(_ paths: MuxPaths) throws(SSHCCFailure) -> FileDescriptor {
        do throws(SystemError) {
            try Files.makePrivateDirectory(paths.directory)
        } catch {
            if let problem = Files.privateDirectoryProblem(paths.directory) {
                throw untrusted(paths, "trust \(paths.directory): \(problem)")
            }
            throw SSHCCFailure(.localIOError, "cannot make the mux daemon's directory: \(error)")
        }
        if let fd = try connectRunning(paths, checked: true) { return fd }
        let fd: FileDescriptor
        do throws(SystemError) {
            let lock = try FileLock(path: paths.startLock)
            defer { withExtendedLifetime(lock) {} }
            if let running = try? UnixSocket.connect(to: paths.socket) {
                fd = running
            } else {
                try start(paths)
                fd = try UnixSocket.connect(to: paths.socket)
            }
        } catch {
            throw SSHCCFailure(.localIOError, "cannot start the mux daemon in \(paths.directory): \(error)")
        }
        return try checkedPeer(fd, paths)
    }

    /// A connection to the daemon already running, nil when none listens. `checked`: the directory was
    /// just checked by the caller.
    static func connectRunning(_ paths: MuxPaths, checked: Bool = false) throws(SSHCCFailure) -> FileDescriptor? {
        if !checked, Files.exists(paths.directory), let problem = Files.privateDirectoryProblem(paths.directory) {
            throw untrusted(paths, "trust \(paths.directory): \(problem)")
        }
        guard let fd = try? UnixSocket.connect(to: paths.socket) else { return nil }
        return try checkedPeer(fd, paths)
    }

    /// `fd` if the process listening is this user's sshcc-mux (SO_PEERCRED); closed and refused otherwise.
    static func checkedPeer(_ fd: consuming FileDescriptor, _ paths: MuxPaths) throws(SSHCCFailure)
        -> FileDescriptor
    {
        let problem: String?
        if let peer = UnixSocket.peer(fd) {
            problem = peerProblem(uid: peer.uid, executable: peer.executable, pid: peer.pid)
        } else {
            problem = "its credentials cannot be read"
        }
        guard let problem else { return fd }
        throw untrusted(paths, "the process at \(paths.socket) \(problem)")
    }

    /// Why a socket's listener is not this user's sshcc-mux, or nil. An unreadable executable (hidepid)
    /// leaves the uid to decide; a replaced binary reads as "… (deleted)" and is still sshcc-mux.
    static func peerProblem(uid: uid_t, executable: String?, pid: pid_t) -> String? {
        let me = CurrentProcess.userID
        if uid != me { return "(pid \(pid)) belongs to uid \(uid), not to you (uid \(me))" }
        guard let executable else { return nil }
        let name = executable.split(separator: "/").last.map(String.init) ?? executable
        guard name == "sshcc-mux" || name.hasPrefix("sshcc-mux ") else {
            return "(pid \(pid)) is \(Console.neutralised(executable)), not sshcc-mux"
        }
        return nil
    }

    /// The refusal, with the fix.
    static func untrusted(_ paths: MuxPaths, _ why: String) -> SSHCCFailure {
        SSHCCFailure(
            .untrustedPath, "refusing the mux daemon's directory: \(why)",
            details: [
                "  sshcc hands its jobs, key paths and agent to the daemon there, so it must be yours alone.",
                "  Remove \(paths.directory) (as its owner or root) if you did not make it, or choose a private",
                "  directory: export SSHCC_DIR=\"$HOME/.cache/sshcc\" (or run with XDG_RUNTIME_DIR set).",
            ])
    }

    /// Spawns `sshcc-mux` from sshcc's own directory and waits (10 s at most) until it listens.
    /// sshcc-mux, installed next to sshcc.
    static var muxExecutable: String {
        let me = Files.realPath("/proc/self/exe") ?? "/proc/self/exe"
        return String(me[..<(me.lastIndex(of: "/") ?? me.startIndex)]) + "/sshcc-mux"
    }

    static func start(_ paths: MuxPaths) throws(SystemError) {
        let executable = muxExecutable
        guard Files.isExecutableFile(executable) else {
            throw SystemError(
                "find sshcc-mux (install it next to sshcc)", path: executable, errno: .noSuchFileOrDirectory)
        }
        let ready = try FileDescriptorIO.pipe()
        Environment.set("SSHCC_DIR", paths.directory)
        let pid = try Subprocess.spawnDetached(
            executable: executable, arguments: ["sshcc-mux", "--ready-fd", "3"], passing: ready.write)
        // Only the daemon holds the write end now: if it dies first, the read below ends.
        ready.write.close()
        // Up to 10 s for the one byte the daemon writes once it listens (an interrupted wait just returns).
        let deadline = Deadline(secondsFromNow: 10)
        while deadline.remainingMilliseconds > 0,
            !Poll.wait([Poll.Entry(ready.read)], milliseconds: deadline.remainingMilliseconds)[0]
        {}
        guard (try? FileDescriptorIO.read(ready.read, upTo: 1))?.count == 1 else {
            throw SystemError("wait for sshcc-mux (pid \(pid)) to listen; see \(paths.log)", errno: .timedOut)
        }
    }
}
