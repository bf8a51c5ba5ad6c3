// A child whose output file is a pipe of ours, so that its text is complete the moment the program that
// writes it closes the file, before that program and its parent (gcc's driver above cc1) have exited:
// ~1 ms sooner than the end of a captured stdout, which the driver holds open until it exits.
// The child is told to write to /proc/<our pid>/fd/<write end>; only the writer it starts opens that name
// (our end is close-on-exec), and we close ours once the writer has shown itself, so end of file means
// the writer is done. A descriptor for the child (pidfd) ends the wait when it exits without writing.

import CPOSIX

#if canImport(Glibc)
    import Glibc
#endif

public final class EarlyOutputRun {
    private let pid: pid_t
    /// Our pipe's ends until the text is read; the write end goes once the writer has shown itself.
    private var readEnd: FileDescriptor?
    private var writeEnd: FileDescriptor?
    /// Ends the wait for a child that exits without writing; closed once it is reaped.
    private var child: FileDescriptor?
    private var status: Int32?

    /// Starts `executable` with the arguments `arguments(outputPath)` gives; stdin /dev/null, stdout
    /// inherited, stderr inherited or into `messages`. Nil when this system cannot name our pipe to a child
    /// (no /proc, no pidfd), or when `arguments` gives none: the caller then goes another way.
    public static func start(
        executable: String, messages: HeldOutput? = nil, arguments: (String) -> [String]?
    ) -> EarlyOutputRun? {
        guard let ends = try? FileDescriptorIO.pipe() else { return nil }
        let path = "/proc/\(getpid())/fd/\(ends.write.number)"
        guard access(path, W_OK) == 0,
            let argv = arguments(path),
            let pid = try? Subprocess.spawn(executable: executable, arguments: argv, messages: messages)
        else { return nil }
        let pidFD = sshcc_pidfd_open(pid)
        guard pidFD >= 0 else {
            // Without a pidfd a child that never writes would leave us waiting: reap it, report no run.
            _ = try? Subprocess.wait(pid)
            return nil
        }
        return EarlyOutputRun(pid: pid, ends: ends, child: FileDescriptor(owning: pidFD))
    }

    private init(pid: pid_t, ends: consuming PipeEnds, child: consuming FileDescriptor) {
        self.pid = pid
        self.readEnd = .some(ends.read)
        self.writeEnd = .some(ends.write)
        self.child = consume child
    }

    /// Everything the child's writer wrote, once it has closed the file (or the child has exited). On the
    /// way, `each` is handed what came since its last call whenever that is at least `pieceSize` bytes, so
    /// the text can travel while it is written; what it was not handed is the end of the returned text.
    public func output(pieceSize: Int = .max, each: (ArraySlice<UInt8>) -> Void = { _ in })
        throws(SystemError) -> [UInt8]
    {
        defer { closeEnds() }
        guard let reader = readEnd?.number else { return [] }
        // Data means the writer has opened our pipe; the child's exit means it never will. Either way our
        // write end can go, and end of file is then the writer's close.
        var entries = [
            pollfd(fd: reader, events: Int16(POLLIN), revents: 0),
            pollfd(fd: child?.number ?? -1, events: Int16(POLLIN), revents: 0),
        ]
        try SystemError.check("poll") { poll(&entries, 2, -1) }
        writeEnd = nil
        var text: [UInt8] = []
        var handed = 0
        while try FileDescriptorIO.read(number: reader, appendingTo: &text) > 0 {
            if text.count - handed >= pieceSize {
                each(text[handed...])
                handed = text.count
            }
        }
        return text
    }

    /// The child's raw wait status (waits for it once).
    public func wait() throws(SystemError) -> Int32 {
        if let status { return status }
        closeEnds()
        child = nil
        let waited = try Subprocess.wait(pid)
        status = waited
        return waited
    }

    private func closeEnds() {
        writeEnd = nil
        readEnd = nil
    }
}
