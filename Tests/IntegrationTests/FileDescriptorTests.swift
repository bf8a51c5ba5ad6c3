// FileDescriptor ↔ FileDescriptor.swift: an owned descriptor closes exactly when its owner ends or closes it,
// never while a number given away with `release` is in use. Seen from the other end of a pipe (end of file),
// not by asking whether a number is open: in a parallel test run another thread may reuse a number at once.

import Glibc
import POSIXSupport
import Testing

@Suite struct FileDescriptorTests {
    /// Whether the reader has something to read (bytes or end of file) right now.
    func readable(_ reader: borrowing FileDescriptor) -> Bool {
        Poll.wait([Poll.Entry(reader)], milliseconds: 0)[0]
    }

    /// End of file now (a reader whose writer is still open would wait: that is a failure, not a hang).
    func endOfFile(_ reader: borrowing FileDescriptor) throws -> Bool {
        try readable(reader) && FileDescriptorIO.read(reader).isEmpty
    }

    @Test func closingTheWriteEndIsEndOfFileForTheReader() throws {
        let ends = try FileDescriptorIO.pipe()
        let before = readable(ends.read)
        ends.write.close()
        let read = try endOfFile(ends.read)
        #expect(!before, "control: nothing to read while the writer is open")
        #expect(read, "end of file")
    }

    @Test func anOwnerThatEndsClosesWhatItOwns() throws {
        let ends = try FileDescriptorIO.pipe()
        var owner: FileDescriptor? = .some(ends.write)
        try FileDescriptorIO.writeAll(owner!, [7])
        let first = try FileDescriptorIO.read(ends.read)
        let held = !readable(ends.read)
        owner = nil
        let last = try endOfFile(ends.read)
        #expect(first == [7])
        #expect(held, "control: the owner still holds it open")
        #expect(last, "end of file once the owner let go")
    }

    @Test func aReleasedNumberStaysOpenUntilItsNewOwnerClosesIt() throws {
        let ends = try FileDescriptorIO.pipe()
        let number = ends.write.release()
        let open = !readable(ends.read)
        var byte: UInt8 = 9
        let written = write(number, &byte, 1)
        let read = try FileDescriptorIO.read(ends.read)
        close(number)
        let last = try endOfFile(ends.read)
        #expect(open, "released, not closed")
        #expect(written == 1 && read == [9])
        #expect(last, "end of file once its new owner closed it")
    }

    /// A handover to another thread: the thread owns it from then on, and its end is the descriptor's end.
    @Test func aHandedOverDescriptorClosesWithTheThreadThatTookIt() throws {
        let ends = try FileDescriptorIO.pipe()
        let handover = OwnedHandover(ends.write)
        let done = OneShot<Bool>()
        Threads.spawn {
            // The writer ends with this inner scope, before the test hears that it is done.
            let wrote = { () -> Bool in
                let writer = handover.take()
                return (try? FileDescriptorIO.writeAll(writer, [1, 2])) != nil
            }()
            done.fulfil(wrote)
        }
        let finished = done.wait()
        let bytes = try FileDescriptorIO.read(ends.read)
        let last = try endOfFile(ends.read)
        #expect(finished && bytes == [1, 2])
        #expect(last, "end of file once the thread's writer ended")
    }

    @Test func aClosedWakePipeIsPolledAsNothingAndRingsNowhere() throws {
        let wake = try #require(WakePipe())
        #expect(!Poll.wait([wake.pollEntry], milliseconds: 0)[0], "control: not rung yet")
        wake.ring()
        #expect(Poll.wait([wake.pollEntry], milliseconds: 0)[0])
        wake.drain()
        wake.close()
        wake.ring()
        #expect(!Poll.wait([wake.pollEntry], milliseconds: 0)[0])
    }
}
