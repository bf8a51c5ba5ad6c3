// A server stream, watched while a job waits or compiles. Bytes that arrive early are kept for the request
// loop. The client counts as gone when its reply stream breaks (POLLERR/POLLHUP on the output: sshd closed
// the channel), not at end of input — `requests | sshccd` half-closes and still wants every reply.

import POSIXSupport

public final class StreamWatch: PollWatch {
    /// The request stream and the reply stream, closed with the watch.
    let input: FileDescriptor
    let output: FileDescriptor
    /// The signal pipe, if sshccd installed one.
    let signals: SignalPipe?
    /// Bytes read while a job ran; the request loop decodes them next.
    public private(set) var pending: [UInt8] = []
    /// Past this many pending bytes the input is not read until the loop takes them: a client that sends
    /// while its job waits or compiles fills SSH's window, not the server's memory. Its leaving still shows on
    /// the reply stream.
    public static let pendingLimit = 256 << 10
    /// End of input: no more requests will come.
    public private(set) var inputEnded = false
    /// Nobody reads the replies any more: the job in progress is to be stopped.
    public private(set) var closed = false
    public var abandoned: Bool { closed }
    /// SIGTERM arrived: finish what runs, start nothing new.
    public private(set) var terminating = false

    public init(input: consuming FileDescriptor, output: consuming FileDescriptor, signals: SignalPipe? = nil) {
        self.input = consume input
        self.output = consume output
        self.signals = signals
    }

    /// Hands the early bytes to the caller.
    public func takePending() -> [UInt8] {
        defer { pending = [] }
        return pending
    }

    /// The descriptors to poll, in the order `service` expects.
    public var pollEntries: [Poll.Entry] {
        [
            Poll.Entry(input, when: !inputEnded && pending.count < Self.pendingLimit),
            Poll.Entry(output, [], when: !closed),  // only its hang-up or error is of interest
            terminating ? .nothing : signals?.pollEntry ?? .nothing,
        ]
    }

    /// Acts on what poll reported for `pollEntries`.
    public func service(_ ready: ArraySlice<Poll.Ready>) {
        let first = ready.startIndex
        let (inputEvents, outputEvents, termEvents) = (ready[first], ready[first + 1], ready[first + 2])
        if !inputEvents.isEmpty, !inputEnded {
            if let chunk = try? FileDescriptorIO.read(input), !chunk.isEmpty {
                pending += chunk
            } else {
                inputEnded = true
            }
        }
        if !outputEvents.isDisjoint(with: .gone) { closed = true }
        if !termEvents.isEmpty { terminating = true }
    }

    /// Sleeps up to `milliseconds` (-1: without limit) unless the streams or SIGTERM have something to say.
    public func pause(milliseconds: Int32) {
        let ready = Poll.events(pollEntries, milliseconds: milliseconds)
        guard ready.contains(where: { !$0.isEmpty }) else { return }
        service(ready[...])
    }
}
