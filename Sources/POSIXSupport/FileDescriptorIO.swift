// Whole-buffer reads and writes on descriptors, retrying EINTR and short transfers in one place. Each call
// borrows an owned descriptor, or names one of the process's standard streams.

import CPOSIX

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum FileDescriptorIO {
    /// Reads up to `count` bytes (fewer at end of file); empty means end of file.
    public static func read(_ fd: borrowing FileDescriptor, upTo count: Int = 64 * 1024) throws(SystemError)
        -> [UInt8]
    {
        var bytes: [UInt8] = []
        _ = try read(number: fd.number, appendingTo: &bytes, upTo: count)
        return bytes
    }

    /// Reads up to `count` bytes onto the end of `buffer`; the number read, 0 at end of file.
    public static func read(
        _ fd: borrowing FileDescriptor, appendingTo buffer: inout [UInt8], upTo count: Int = 64 * 1024
    )
        throws(SystemError) -> Int
    {
        try read(number: fd.number, appendingTo: &buffer, upTo: count)
    }

    /// Reads until end of file, failing once more than `limit` bytes arrive.
    public static func readAll(_ fd: borrowing FileDescriptor, limit: Int = .max) throws(SystemError) -> [UInt8] {
        var all: [UInt8] = []
        while try read(number: fd.number, appendingTo: &all) > 0 {
            if all.count > limit { throw SystemError("read (over \(limit) bytes)", errno: .fileTooLarge) }
        }
        return all
    }

    /// Writes every byte, retrying short writes; straight from the array's storage (objects are large).
    public static func writeAll(_ fd: borrowing FileDescriptor, _ bytes: [UInt8]) throws(SystemError) {
        try writeAll(number: fd.number, bytes)
    }

    /// Writes every byte to a standard stream.
    public static func writeAll(_ stream: StandardStream, _ bytes: [UInt8]) throws(SystemError) {
        try writeAll(number: stream.rawValue, bytes)
    }

    /// The bytes land in uninitialised scratch space first: a pipe's reader gets a few KiB a call (cc1 writes
    /// 4 KiB at a time), and a zero-filled 64 KiB array per call cost more than the copy.
    static func read(number fd: Int32, appendingTo buffer: inout [UInt8], upTo count: Int = 64 * 1024)
        throws(SystemError) -> Int
    {
        let result = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { scratch in
            let n = Result { () throws(SystemError) in
                try SystemError.check("read") { Glibc.read(fd, scratch.baseAddress, count) }
            }
            if case .success(let n) = n { buffer.append(contentsOf: scratch[0..<n]) }
            return n
        }
        return try result.get()
    }

    static func writeAll(number fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = try SystemError.check("write") {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            }
            offset += n
        }
    }

    /// A pipe whose two ends close on exec (atomically: no race with a concurrent spawn).
    public static func pipe() throws(SystemError) -> PipeEnds {
        var ends: [Int32] = [-1, -1]
        try SystemError.check("pipe") { sshcc_pipe_cloexec(&ends) }
        return PipeEnds(read: FileDescriptor(owning: ends[0]), write: FileDescriptor(owning: ends[1]))
    }
}
