// Whole-buffer reads and writes on raw file descriptors, retrying EINTR and short transfers in one place.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum FileDescriptorIO {
    /// Reads up to `count` bytes (fewer at end of file); empty means end of file.
    public static func read(_ fd: Int32, upTo count: Int = 64 * 1024) throws(SystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        _ = try read(fd, appendingTo: &bytes, upTo: count)
        return bytes
    }

    /// Reads up to `count` bytes onto the end of `buffer`; the number read, 0 at end of file. The bytes land
    /// in uninitialised scratch space first: a pipe's reader gets a few KiB a call (cc1 writes 4 KiB at a
    /// time), and a zero-filled 64 KiB array per call cost more than the copy.
    public static func read(_ fd: Int32, appendingTo buffer: inout [UInt8], upTo count: Int = 64 * 1024)
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

    /// Reads until end of file, failing once more than `limit` bytes arrive.
    public static func readAll(_ fd: Int32, limit: Int = .max) throws(SystemError) -> [UInt8] {
        var all: [UInt8] = []
        while try read(fd, appendingTo: &all) > 0 {
            if all.count > limit { throw SystemError("read (over \(limit) bytes)", errno: .fileTooLarge) }
        }
        return all
    }

    /// Writes every byte, retrying short writes; straight from the array's storage (objects are large).
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = try SystemError.check("write") {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            }
            offset += n
        }
    }
}
