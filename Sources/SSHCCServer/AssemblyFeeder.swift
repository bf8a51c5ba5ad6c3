// gcc's first step writes its assembly into a FIFO in the job directory, not a file: sshccd then has the
// whole text the moment cc1 closes it, rather than after cc1's exit (~1 ms to unmap a large process) and
// its driver's (another ~1 ms). A thread of its own reads the FIFO, checks the text and feeds it to the
// assembler, which so runs while the first step is still exiting. Nothing reaches the assembler that was
// not checked; the main thread uses the assembler's result only if the first step succeeded.

import CompileCore
import ServerPolicy
import POSIXSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The read end of the job's assembly FIFO, made before the first step starts (cc1 opens it by name).
struct AssemblyPipe {
    let path: String
    let fd: Int32

    /// Makes the FIFO at `path` (0600) and opens its read end, non-blocking: a writer need not exist yet.
    static func make(at path: String) throws(SystemError) -> AssemblyPipe {
        try SystemError.check("mkfifo", path: path) { mkfifo(path, 0o600) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        return AssemblyPipe(path: path, fd: fd)
    }
}

enum AssemblyOutcome: Sendable {
    /// The first step wrote no assembly (it failed, or it was not asked to write any).
    case none
    /// More than the output limit: reading stopped (cc1 then fails on a broken pipe).
    case overLimit
    case refused(String)
    case assembled(LimitedResult)
    case failed(String)
}

/// Moves the job's assembler and the FIFO to a thread; `finish` collects the outcome.
final class AssemblyFeeder: @unchecked Sendable {
    private let pipe: AssemblyPipe
    private let outcome = OneShot<AssemblyOutcome>()

    /// Starts reading `pipe` (whose fd it now owns) on a new thread: up to `limit` bytes, then the checked
    /// text goes to `assembler`'s stdin; its stdout and stderr are captured up to `captureLimit` each.
    init(_ pipe: AssemblyPipe, assembler: StartedProcess, limit: Int, captureLimit: Int) {
        self.pipe = pipe
        let handOver = Handover(value: assembler)
        Threads.spawn { [outcome] in
            outcome.fulfil(Self.run(pipe.fd, handOver.value, limit: limit, captureLimit: captureLimit))
            close(pipe.fd)
        }
    }

    /// Waits for the thread once the first step has ended. If cc1 never opened the FIFO (it failed early),
    /// opening and closing its write end here ends the thread's wait with an empty text.
    func finish() -> AssemblyOutcome {
        let writer = open(pipe.path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if writer >= 0 { close(writer) }
        return outcome.wait()
    }

    private static func run(_ fd: Int32, _ assembler: StartedProcess, limit: Int, captureLimit: Int)
        -> AssemblyOutcome
    {
        // Linux reports no hang-up on a FIFO that never had a writer, and a read then returns end of file at
        // once: poll until cc1 (or `finish`) has opened it, then read it to its end, blocking.
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, -1) < 0 {
            if errno != EINTR { return .failed("poll on the assembly pipe: errno \(errno)") }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let text: [UInt8]
        do {
            text = try FileDescriptorIO.readAll(fd, limit: limit)
        } catch {
            return error.errno == .fileTooLarge ? .overLimit : .failed("reading the assembly: \(error)")
        }
        if text.isEmpty { return .none }
        if let reason = AssemblyPolicy.refusal(text) { return .refused(reason) }
        do {
            return .assembled(try Subprocess.finish(assembler, input: text, captureLimit: captureLimit, watch: nil))
        } catch {
            return .failed("running the assembler: \(error)")
        }
    }
}
