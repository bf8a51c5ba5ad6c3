// Running a program to completion: posix_spawn, its stdout and stderr captured (or inherited), the wait
// status returned raw. Also exec for handing the whole process over to the real compiler.

import CPOSIX
import CompileCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a finished child left behind.
public struct ProcessResult: Sendable {
    /// The raw wait status, as distcc's STAT frame carries it.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(status: Int32, stdout: [UInt8] = [], stderr: [UInt8] = []) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var wait: WaitStatus { WaitStatus(status) }
    public var exitCode: Int32? { wait.exitCode }
    /// The status as a shell reports it: the exit code, or 128 + the signal.
    public var shellStatus: Int32 { wait.shellStatus }
    public var signal: Int32? { wait.signal }
}

public enum Subprocess {
    /// Where a child's output goes.
    public enum Output: Sendable {
        case capture
        case inherit
    }

    /// Runs `executable` with `arguments` (argv[0] first), waits, returns status and captured output.
    /// `captureLimit` caps each captured stream; more is drained and dropped, and `overflowed` reports it.
    /// `environment` (`KEY=value` strings) replaces the inherited environment when given. `closingOthers`
    /// closes every descriptor above 2 in the child (off by default: a compiler may use make's jobserver fds).
    public static func run(
        executable: String, arguments: [String], environment: [String]? = nil, directory: String? = nil,
        stdinPath: String = "/dev/null", stdout: Output = .capture, stderr: Output = .capture, captureLimit: Int = .max,
        closingOthers: Bool = false
    ) throws(SystemError) -> ProcessResult {
        // Our read ends, and the child's write ends until it has started.
        var outRead: FileDescriptor?, outWrite: FileDescriptor?, errRead: FileDescriptor?, errWrite: FileDescriptor?
        if stdout == .capture {
            let ends = try FileDescriptorIO.pipe()
            outRead = .some(ends.read)
            outWrite = .some(ends.write)
        }
        if stderr == .capture {
            let ends = try FileDescriptorIO.pipe()
            errRead = .some(ends.read)
            errWrite = .some(ends.write)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        if let fd = outWrite?.number { posix_spawn_file_actions_adddup2(&actions, fd, 1) }
        if let fd = errWrite?.number { posix_spawn_file_actions_adddup2(&actions, fd, 2) }
        if let directory { sshcc_spawn_addchdir(&actions, directory) }
        if closingOthers { sshcc_spawn_addclosefrom(&actions, 3) }

        let pid = try posixSpawn(executable, arguments, environment: environment, actions: &actions)
        outWrite = nil
        errWrite = nil

        let drained = try drain([outRead?.number, errRead?.number], limit: captureLimit)
        let status = try wait(pid)
        return ProcessResult(status: status, stdout: drained.captured[0], stderr: drained.captured[1])
    }

    /// What reading a child's output gave.
    struct Drained {
        var captured: [[UInt8]]
        /// A stream had more than the limit; the rest was read and dropped.
        var overflowed = false
        var end = LimitedEnd.exited
        /// What the relay into the child's stdin did, when there was one.
        var relayed: Relayed?
    }

    /// Bytes to write into a child's stdin (a non-blocking pipe): given whole, or relayed from a source as it
    /// is read. The pipe is closed once everything is written (and the source has ended), or when the reader
    /// has gone (EPIPE).
    struct Feed: ~Copyable {
        /// The pipe to the child's stdin, until it is closed.
        var input: FileDescriptor?
        var bytes: [UInt8]
        var offset = 0
        var relay: Relay?

        init(input: consuming FileDescriptor, bytes: [UInt8], relay: InputRelay? = nil) {
            self.input = consume input
            self.bytes = bytes
            self.relay = relay.map { Relay(input: $0) }
        }

        /// Writes what the pipe takes.
        mutating func advance() {
            guard let fd = input?.number else { return }
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else if written < 0 && errno == EAGAIN {
                    return
                } else {
                    closeInput()
                    return
                }
            }
            (bytes, offset) = ([], 0)
            if relay?.reading != true { closeInput() }
        }

        mutating func closeInput() {
            input = nil
            bytes = []
        }

        /// Bytes wait to be written and the pipe is still open.
        var writing: Bool { input != nil && offset < bytes.count }

        /// Reads what the relay's source has and passes on what its screen lets through.
        mutating func readSource() throws(SystemError) {
            guard let source = relay?.input.source, relay?.reading == true else { return }
            var chunk: [UInt8] = []
            _ = try FileDescriptorIO.read(number: source, appendingTo: &chunk)
            guard let passed = relay!.take(chunk) else { return closeInput() }
            bytes += passed
            advance()
        }

        /// The source to poll for reading: while it has not ended, and the child keeps up.
        var pollSource: Int32? {
            guard let relay, relay.reading, bytes.count - offset < 1 << 18 || input == nil else { return nil }
            return relay.input.source
        }
    }

    struct Relay {
        let input: InputRelay
        var reading = true
        var result = Relayed()

        /// What of `chunk` (empty: the source ended) goes on to the child; nil when the child is to get
        /// nothing more: over the limit (reading stops; the source's writer then meets a broken pipe), or
        /// refused by the screen (the rest is still read and dropped, so the writer ends as it would have).
        mutating func take(_ chunk: [UInt8]) -> [UInt8]? {
            result.bytes += chunk.count
            reading = !chunk.isEmpty
            if result.bytes > input.limit {
                (result.overLimit, reading) = (true, false)
                return nil
            }
            if result.stopped { return [] }
            guard let passed = input.screen(chunk, chunk.isEmpty) else {
                result.stopped = true
                return nil
            }
            return passed
        }
    }

    /// Reads `fds` (nil: none; their owners keep them open) until all reach end of file, keeping at most
    /// `limit` bytes of each, while writing `feeding` as the child takes it. Stops early at `deadline`
    /// (`.timedOut`) or when `watch` finds its client gone (`.abandoned`).
    static func drain(
        _ fds: [Int32?], limit: Int, deadline: UInt64? = nil, watch: (any PollWatch)? = nil,
        feeding: consuming Feed? = nil
    ) throws(SystemError) -> Drained {
        var feed = feeding
        defer { feed?.closeInput() }
        feed?.advance()
        var drained = Drained(captured: fds.map { _ in [] })
        var open = fds  // nil once at end of file
        while open.contains(where: { $0 != nil }) || feed?.relay?.reading == true {
            var timeout: Int32 = -1
            if let deadline {
                let now = Monotonic.nanoseconds()
                guard now < deadline else {
                    drained.end = .timedOut
                    break
                }
                timeout = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            }
            let writing = feed?.writing ?? false
            let source = feed?.pollSource
            var entries =
                open.map { pollfd(fd: $0 ?? -1, events: Int16(POLLIN), revents: 0) } + [
                    pollfd(fd: writing ? feed?.input?.number ?? -1 : -1, events: Int16(POLLOUT), revents: 0),
                    pollfd(fd: source ?? -1, events: Int16(POLLIN), revents: 0),
                ] + Poll.pollfds(watch?.pollEntries ?? [])
            try SystemError.check("poll") { poll(&entries, nfds_t(entries.count), timeout) }
            watch?.service(entries[(fds.count + 2)...].map { Poll.Ready(rawValue: $0.revents) }[...])
            if watch?.abandoned == true {  // SIGTERM is left for after the job: it is finished, not killed
                drained.end = .abandoned
                break
            }
            if writing && entries[fds.count].revents != 0 { feed?.advance() }
            if source != nil && entries[fds.count + 1].revents != 0 { try feed?.readSource() }
            for index in fds.indices where entries[index].revents != 0 {
                guard let fd = open[index] else { continue }
                var chunk: [UInt8] = []
                guard try FileDescriptorIO.read(number: fd, appendingTo: &chunk) > 0 else {
                    open[index] = nil
                    continue
                }
                let room = max(0, limit - drained.captured[index].count)
                drained.captured[index] += chunk.prefix(room)
                drained.overflowed = drained.overflowed || chunk.count > room
            }
        }
        drained.relayed = feed?.relay?.result
        return drained
    }

    /// Starts `executable` (stdin /dev/null, stdout ours, stderr ours or into `messages`) and returns its PID;
    /// `wait` reaps it.
    public static func spawn(
        executable: String, arguments: [String], messages: HeldOutput? = nil
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let messages { posix_spawn_file_actions_adddup2(&actions, messages.file.number, 2) }
        return try posixSpawn(executable, arguments, actions: &actions)
    }

    /// Starts `executable` with `stdio` as its stdin and stdout and `stderr` as its stderr, no other
    /// descriptor, in a session of its own (a terminal's signals are not its business): a connection's hop
    /// process (ProxyCommand, `ssh -W`). Returns its PID.
    public static func spawnConnected(
        executable: String, arguments: [String], stdio: borrowing FileDescriptor, stderr: borrowing FileDescriptor
    ) throws(SystemError) -> pid_t {
        try spawn(
            executable: executable, arguments: arguments, stdin: stdio.number, stdout: stdio.number,
            stderr: stderr.number, newSession: true)
    }

    /// Starts `executable` with exactly these descriptors as its stdin and stdout, stderr on /dev/null, and no
    /// other, with `environment` (`KEY=value`; nil: ours), in a session of its own if `newSession`. Returns
    /// its PID.
    public static func spawn(
        executable: String, arguments: [String], environment: [String]? = nil, stdin: borrowing FileDescriptor,
        stdout: borrowing FileDescriptor, newSession: Bool = false
    ) throws(SystemError) -> pid_t {
        try spawn(
            executable: executable, arguments: arguments, environment: environment, stdin: stdin.number,
            stdout: stdout.number, stderr: nil, newSession: newSession)
    }

    private static func spawn(
        executable: String, arguments: [String], environment: [String]? = nil, stdin: Int32, stdout: Int32,
        stderr: Int32?, newSession: Bool = false
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        if let stderr {
            posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        sshcc_spawn_addclosefrom(&actions, 3)
        return try posixSpawn(
            executable, arguments, environment: environment, actions: &actions,
            extraFlags: newSession ? sshcc_spawn_setsid_flag() : 0)
    }

    /// Starts `executable` as a daemon and does not wait for it: a new session (no terminal, no job-control
    /// signals), stdio on /dev/null, `passing` as its fd 3 and no other descriptor (a build's pipes must
    /// not wait on it). Returns its PID.
    public static func spawnDetached(
        executable: String, arguments: [String], passing fd: borrowing FileDescriptor
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for stdio: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, stdio, "/dev/null", O_RDWR, 0) }
        posix_spawn_file_actions_adddup2(&actions, fd.number, 3)
        sshcc_spawn_addclosefrom(&actions, 4)
        return try posixSpawn(
            executable, arguments, actions: &actions, extraFlags: sshcc_spawn_setsid_flag(), operation: "start")
    }

    /// posix_spawn with `actions`, the child attributes below and `environment` (nil: ours); the PID.
    private static func posixSpawn(
        _ executable: String, _ arguments: [String], environment: [String]? = nil,
        actions: inout posix_spawn_file_actions_t, extraFlags: Int16 = 0, operation: String = "run"
    ) throws(SystemError) -> pid_t {
        var pid = pid_t()
        let spawnError = withChildAttributes(extraFlags: extraFlags) { attributes in
            withCStrings(arguments) { argv in
                guard let environment else {
                    return posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
                }
                return withCStrings(environment) { envp in
                    posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
                }
            }
        }
        guard spawnError == 0 else {
            throw SystemError(operation, path: executable, errno: .init(rawValue: spawnError))
        }
        return pid
    }

    /// Children get default signal handling back: we ignore SIGPIPE, and a calling thread may block
    /// signals (libdispatch's threads do); a child that inherits a blocked SIGTERM cannot be stopped.
    private static func withChildAttributes<R>(extraFlags: Int16 = 0, _ body: (inout posix_spawnattr_t) -> R) -> R {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | extraFlags)
        return body(&attributes)
    }

    /// Waits for `pid` and returns its raw wait status.
    public static func wait(_ pid: pid_t) throws(SystemError) -> Int32 {
        var status: Int32 = 0
        try SystemError.check("waitpid") { waitpid(pid, &status, 0) }
        return status
    }

    /// Replaces this process with `executable` (argv[0] first). Returns only on failure.
    public static func exec(executable: String, arguments: [String]) -> SystemError {
        signal(SIGPIPE, SIG_DFL)
        _ = withCStrings(arguments) { argv in execv(executable, argv) }
        return SystemError("exec", path: executable)
    }

    /// Calls `body` with a NULL-terminated C array of the strings.
    static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}
