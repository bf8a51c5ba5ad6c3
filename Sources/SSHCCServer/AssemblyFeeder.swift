// gcc's first step writes its assembly into a FIFO in the job directory, not a file, and a thread of its own
// relays it to the assembler line by line as each is checked: the assembler works while cc1 still writes and
// then exits (cc1's descriptors close only after it has unmapped itself, ~1 ms, and its driver's exit is
// not waited for at all). Nothing reaches the assembler that was not checked; the main thread uses the
// assembler's result only if the first step succeeded and the whole text passed.

import CompileCore
import POSIXSupport
import ServerPolicy

/// The read end of the job's assembly FIFO, made before the first step starts (cc1 opens it by name).
struct AssemblyPipe: ~Copyable {
    let path: String
    let fd: FileDescriptor

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
    /// The FIFO's path, to end the thread's wait for a writer.
    private let path: String
    private let outcome = OneShot<AssemblyOutcome>()
    private let unwanted = Unwanted()

    /// Starts reading `pipe` on a new thread: up to `limit` bytes, then the checked text goes to
    /// `assembler`'s stdin; its stdout and stderr are captured up to `captureLimit` each. The thread closes
    /// the FIFO as soon as it is done with it: a writer it stopped reading then fails at once.
    init(_ pipe: consuming AssemblyPipe, assembler: StartedProcess, limit: Int, captureLimit: Int) {
        path = pipe.path
        let reader = OwnedHandover(pipe.fd)
        let handOver = Handover(value: assembler)
        Threads.spawn { [outcome, unwanted] in
            let fd = reader.take()
            outcome.fulfil(Self.run(fd, handOver.value, limit: limit, captureLimit: captureLimit, unwanted: unwanted))
        }
    }

    /// Waits for the thread once the first step has ended. If cc1 never opened the FIFO (it failed early),
    /// opening and closing its write end here ends the thread's wait with an empty text. When the first step
    /// did not succeed (`wanted` false) the assembler is stopped: its object would not be used, and an
    /// assembler that does not finish must not hold the job. While the assembler runs, the client is watched
    /// (`watch`): if it leaves, the assembler is stopped too and `finish` reports `.failed` — the caller sees
    /// the watch abandoned.
    func finish(wanted: Bool, watch: StreamWatch?) -> AssemblyOutcome {
        if !wanted { unwanted.declare() }
        Fifo.knock(path)
        if wanted, let watch { waitWatching(watch) }
        return outcome.wait()
    }

    /// Returns when the thread has its outcome or the client has left (then the assembler is told to stop).
    private func waitWatching(_ watch: StreamWatch) {
        guard let done = WakePipe() else { return }
        outcome.whenFulfilled { done.ring() }
        while !watch.abandoned {
            let ready = Poll.events([done.pollEntry] + watch.pollEntries, milliseconds: -1)
            if ready[0].contains(.readable) { return }
            watch.service(ready[1...])
        }
        unwanted.declare()
    }

    private static func run(
        _ fd: borrowing FileDescriptor, _ assembler: StartedProcess, limit: Int, captureLimit: Int,
        unwanted: Unwanted
    ) -> AssemblyOutcome {
        // Wait until cc1 (or `finish`) has opened the FIFO, then relay it to its end.
        do {
            try Fifo.awaitWriter(fd)
        } catch {
            return .failed("\(error)")
        }
        var screen = AssemblyScreen()
        let relay = InputRelay(source: fd, limit: limit) { bytes, atEnd in screen.pass(bytes, atEnd: atEnd) }
        let run: LimitedResult
        do {
            run = try Subprocess.finish(assembler, relaying: relay, captureLimit: captureLimit, watch: unwanted)
        } catch {
            return .failed("running the assembler: \(error)")
        }
        if run.end == .abandoned { return .failed("stopped: the first step did not succeed") }
        guard let relayed = run.relayed else { return .failed("the assembler read no input") }
        if relayed.overLimit { return .overLimit }
        if relayed.bytes == 0 { return .none }
        if let reason = screen.refusal { return .refused(reason) }
        return .assembled(run)
    }
}

/// The main thread's word that the assembly is no longer wanted: a byte in a pipe the relay polls. Only the
/// relay's thread reads what its poll found, so the flag needs no lock.
private final class Unwanted: PollWatch, @unchecked Sendable {
    private let wake = WakePipe()
    private(set) var abandoned = false

    func declare() { wake?.ring() }

    var pollEntries: [Poll.Entry] { [wake?.pollEntry ?? .nothing] }
    func service(_ ready: ArraySlice<Poll.Ready>) {
        if ready.first?.contains(.readable) == true { abandoned = true }
    }
}
