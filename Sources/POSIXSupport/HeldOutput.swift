// An anonymous file in memory (memfd) that a child writes its messages into: they are shown only once it is
// known that they are the ones to show (the wrapper's preprocessor: if it fails, a local compile reports the
// file instead, as a local build would). A file rather than a pipe: the child never waits on a reader.

import CPOSIX
import Glibc

public final class HeldOutput {
    let file: FileDescriptor

    /// Nil when this system has no memfd (Linux before 3.17).
    public init?() {
        let number = sshcc_memfd_cloexec("sshcc-messages")
        guard number >= 0 else { return nil }
        file = FileDescriptor(owning: number)
    }

    /// Everything written so far.
    public func contents() throws(SystemError) -> [UInt8] {
        try SystemError.check("lseek") { Int32(truncatingIfNeeded: lseek(file.number, 0, SEEK_SET)) }
        return try FileDescriptorIO.readAll(file)
    }
}
