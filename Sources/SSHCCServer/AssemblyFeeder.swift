// gcc's first step writes its assembly into a FIFO in the job directory, not a file: sshccd then has the
// whole text the moment cc1 closes it, rather than after cc1's exit (~1 ms to unmap a large process) and
// its driver's (another ~1 ms). A thread of its own reads the FIFO, checks the text and feeds it to the
// assembler, which so runs while the first step is still exiting. Nothing reaches the assembler that was
// not checked; the main thread uses the assembler's result only if the first step succeeded.

import CompileCore
import POSIXSupport
import ServerPolicy

/// The read end of the job's assembly FIFO, made before the first step starts (cc1 opens it by name).
struct AssemblyPipe {
    let path: String
    let fd: Int32

    /// Makes the FIFO at `path` (0600) and opens its read end, non-blocking: a writer need not exist yet.
    static func make(at path: String) throws(SystemError) -> AssemblyPipe {
        AssemblyPipe(path: path, fd: try Fifo.makeAndOpenReader(at: path))
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
            FileDescriptorIO.close(pipe.fd)
        }
    }

    /// Waits for the thread once the first step has ended. If cc1 never opened the FIFO (it failed early),
    /// opening and closing its write end here ends the thread's wait with an empty text.
    func finish() -> AssemblyOutcome {
        Fifo.knock(pipe.path)
        return outcome.wait()
    }

    private static func run(_ fd: Int32, _ assembler: StartedProcess, limit: Int, captureLimit: Int)
        -> AssemblyOutcome
    {
        // Wait until cc1 (or `finish`) has opened the FIFO, then read it to its end, blocking.
        do {
            try Fifo.awaitWriter(fd)
        } catch {
            return .failed("\(error)")
        }
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
