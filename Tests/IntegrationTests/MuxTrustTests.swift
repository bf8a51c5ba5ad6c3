// The wrapper trusts only its own mux daemon. Another local user (here `nobody`, started with setpriv) who
// made the mux directory first, or planted a socket in it, or points it through a link or a directory they
// can rename, gets nothing: the wrapper refuses with the fix, compiles locally (or fails with its own code
// under SSHCC_FALLBACK=0), and `--status`/`--stop` refuse too. The listener is a small C program named
// sshcc-mux that records what it receives; the controls (the same program run as the test's own user) show
// that a listener the wrapper trusts does receive the job, so an empty record means the check stopped it.

import Foundation
import POSIXSupport
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct MuxTrustTests {
    static let listener = """
        #include <stdio.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/un.h>
        #include <unistd.h>
        #include <poll.h>
        int main(int argc, char **argv) {
            int s = socket(AF_UNIX, SOCK_STREAM, 0);
            struct sockaddr_un a = {.sun_family = AF_UNIX};
            strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
            unlink(argv[1]);
            if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 8)) return 1;
            FILE *ready = fopen(argv[3], "w"); fclose(ready);
            for (;;) {
                int c = accept(s, 0, 0);
                if (c < 0) continue;
                FILE *record = fopen(argv[2], "a");
                char buffer[65536];
                struct pollfd p = {.fd = c, .events = POLLIN};
                while (poll(&p, 1, 1000) > 0) {
                    ssize_t n = read(c, buffer, sizeof buffer);
                    if (n <= 0) break;
                    fwrite(buffer, 1, n, record);
                }
                fclose(record);
                close(c);
            }
        }
        """

    /// A scratch area another user can work in: the test directory traversable, `shared` sticky and open.
    final class Stage {
        let root: TemporaryDirectory
        let program: String
        var listeners: [pid_t] = []

        init() throws {
            root = try TemporaryDirectory("sshcc-trust")
            chmod(root.path, 0o711)
            let shared = root.path + "/shared"
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            chmod(shared, 0o1777)
            try FileManager.default.createDirectory(atPath: root.path + "/bin", withIntermediateDirectories: true)
            chmod(root.path + "/bin", 0o755)
            let source = try root.write("listener.c", MuxTrustTests.listener)
            program = root.path + "/bin/sshcc-mux"
            try Command.check("gcc", ["-O1", "-o", program, source])
            _ = try root.write("project/x.c", "int secret_marker_4711(int x) { return x * 3; }\n")
        }

        deinit { for pid in listeners { kill(pid, SIGKILL) } }

        var shared: String { root.path + "/shared" }

        /// Starts the listener at `socket`, as `nobody` or as this user, recording into `record`.
        func listen(at socket: String, record: String, asNobody: Bool, program: String? = nil) throws {
            let ready = shared + "/ready-\(listeners.count)"
            let binary = program ?? self.program
            let command = asNobody ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary] : [binary]
            let line = (command + [socket, record, ready]).map { "'\($0)'" }.joined(separator: " ")
            let started = try Command.check("bash", ["-c", line + " </dev/null >/dev/null 2>&1 & echo $!"])
            listeners.append(pid_t(started.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            for _ in 0..<250 where !FileManager.default.fileExists(atPath: ready) { usleep(20_000) }
            #expect(FileManager.default.fileExists(atPath: ready), "the listener at \(socket) did not start")
        }

        /// As `nobody`: `mkdir` (mode) of `path`.
        func makeDirectoryAsNobody(_ path: String, mode: String) throws {
            try Command.check(
                "setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "install", "-d", "-m", mode, path])
        }

        /// sshcc compiling x.c with `SSHCC_DIR=directory`, towards a host that never answers.
        func compile(_ directory: String, fallback: Bool = true) throws -> CommandResult {
            var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            environment["SSHCC_DIR"] = directory
            environment["SSHCC_HOSTS"] = "127.0.0.1:9/2"
            environment["HOME"] = root.path
            if !fallback { environment["SSHCC_FALLBACK"] = "0" }
            try? FileManager.default.removeItem(atPath: root.path + "/project/x.o")
            return try Command.run(
                Products.sshcc, ["gcc", "-c", "x.c", "-o", "x.o"], environment: environment,
                directory: root.path + "/project")
        }

        func sshcc(_ option: String, _ directory: String) throws -> CommandResult {
            try Command.run(
                Products.sshcc, [option], environment: ["SSHCC_DIR": directory, "HOME": root.path],
                directory: root.path)
        }

        func recorded(_ record: String) -> String {
            (try? String(contentsOfFile: record, encoding: .isoLatin1)) ?? ""
        }
    }

    @Test func aDirectoryAnotherUserMadeFirstGetsNothing() throws {
        let stage = try Stage()
        // Control: the same listener as this user, in this user's private directory, receives the job.
        let mine = stage.root.path + "/mine"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: false)
        chmod(mine, 0o700)
        try stage.listen(at: mine + "/mux.sock", record: stage.shared + "/mine.rec", asNobody: false)
        _ = try stage.compile(mine)
        #expect(stage.recorded(stage.shared + "/mine.rec").contains("secret_marker_4711"), "control: not received")

        // The attack: nobody made the directory first and listens in it.
        let evil = stage.shared + "/sshcc-evil"
        try stage.makeDirectoryAsNobody(evil, mode: "0777")
        let record = stage.shared + "/evil.rec"
        try stage.listen(at: evil + "/mux.sock", record: record, asNobody: true)
        let result = try stage.compile(evil)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stderrText.contains("refusing the mux daemon's directory"), "\(result.stderrText)")
        #expect(result.stderrText.contains("belongs to uid 65534") && result.stderrText.contains("SSHCC_DIR"))
        #expect(FileManager.default.fileExists(atPath: stage.root.path + "/project/x.o"), "compiled locally")
        let strict = try stage.compile(evil, fallback: false)
        #expect(strict.status == 114, "\(strict.stderrText)")
        for option in ["--status", "--stop"] {
            let answer = try stage.sshcc(option, evil)
            #expect(answer.status == 114 && answer.stderrText.contains("refusing"), "\(option): \(answer.stderrText)")
        }
        #expect(
            stage.recorded(record).isEmpty, "another user's listener received: \(stage.recorded(record).prefix(200))")
    }

    @Test func aSocketAnotherUserPlantedInAnOpenDirectoryOfMineGetsNothing() throws {
        let stage = try Stage()
        // This user's directory, but left open: nobody put a socket in it before the wrapper came.
        let open = stage.shared + "/sshcc-open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
        chmod(open, 0o777)
        let record = stage.shared + "/open.rec"
        try stage.listen(at: open + "/mux.sock", record: record, asNobody: true)
        let result = try stage.compile(open, fallback: false)
        #expect(result.status == 114, "\(result.stderrText)")
        #expect(result.stderrText.contains("belongs to uid 65534"), "\(result.stderrText)")
        #expect(stage.recorded(record).isEmpty)
    }

    @Test func aListenerOfMineThatIsNotSSHCCMuxGetsNothing() throws {
        let stage = try Stage()
        let other = stage.root.path + "/bin/not-the-daemon"
        try FileManager.default.copyItem(atPath: stage.program, toPath: other)
        let mine = stage.root.path + "/mine"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: false)
        chmod(mine, 0o700)
        let record = stage.shared + "/other.rec"
        try stage.listen(at: mine + "/mux.sock", record: record, asNobody: false, program: other)
        let result = try stage.compile(mine, fallback: false)
        #expect(result.status == 114 && result.stderrText.contains("not sshcc-mux"), "\(result.stderrText)")
        #expect(stage.recorded(record).isEmpty)
    }

    @Test func linksAndDirectoriesOthersCanRenameAreRefused() throws {
        let stage = try Stage()
        let mine = stage.root.path + "/mine"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: false)
        chmod(mine, 0o700)
        // A symlink named like the directory (anyone could have made it in /tmp).
        let link = stage.shared + "/sshcc-link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: mine)
        let linked = try stage.compile(link, fallback: false)
        #expect(linked.status == 114 && linked.stderrText.contains("symbolic link"), "\(linked.stderrText)")
        // This user's directory inside one that nobody owns and may rename things in.
        let theirs = stage.shared + "/theirs"
        try stage.makeDirectoryAsNobody(theirs, mode: "0777")
        let inside = theirs + "/sshcc"
        try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: false)
        let nested = try stage.compile(inside, fallback: false)
        #expect(
            nested.status == 114 && nested.stderrText.contains("above it belongs to uid 65534"), "\(nested.stderrText)")
        // A directory that does not exist yet under a safe parent is made, private, and used.
        let fresh = stage.root.path + "/fresh"
        let made = try stage.compile(fresh)
        #expect(made.status == 0, "\(made.stderrText)")
        var info = stat()
        #expect(lstat(fresh, &info) == 0 && info.st_mode & 0o777 == 0o700)
        stage.root.stopMuxDaemon(in: fresh)
    }

    @Test func aFIFOWhereAFileIsReadNeverBlocks() throws {
        let stage = try Stage()
        let fifo = stage.root.path + "/known_hosts"
        #expect(mkfifo(fifo, 0o600) == 0)
        var environment = ["SSHCC_KNOWN_HOSTS": fifo, "SSHCC_HOSTS": "127.0.0.1:9", "HOME": stage.root.path]
        environment["SSHCC_DIR"] = stage.root.path + "/mux"
        environment["SSHCC_FALLBACK"] = "0"
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let hostsFIFO = stage.root.path + "/.config/sshcc/hosts"
        try FileManager.default.createDirectory(
            atPath: stage.root.path + "/.config/sshcc", withIntermediateDirectories: true)
        #expect(mkfifo(hostsFIFO, 0o600) == 0)
        // Both a FIFO known_hosts (read by the daemon) and a FIFO hosts file (read by the wrapper) end in an
        // error, not a wait; the test would hang otherwise.
        let viaKnownHosts = try Command.run(
            Products.sshcc, ["gcc", "-c", "x.c", "-o", "x.o"], environment: environment,
            directory: stage.root.path + "/project")
        #expect(viaKnownHosts.status > 100, "\(viaKnownHosts.stderrText)")
        environment["SSHCC_HOSTS"] = nil
        let viaHosts = try Command.run(
            Products.sshcc, ["--show-hosts"], environment: environment, directory: stage.root.path)
        #expect(viaHosts.status != 0 && viaHosts.stderrText.contains("not a regular file"), "\(viaHosts.stderrText)")
        stage.root.stopMuxDaemon(in: stage.root.path + "/mux")
    }
}
