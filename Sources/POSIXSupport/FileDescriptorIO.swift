// Whole-buffer reads and writes on raw file descriptors, retrying EINTR and short transfers in one place.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum FileDescriptorIO {
    /// Reads up to `count` bytes (fewer at end of file); empty means end of file.
    public static func read(_ fd: Int32, upTo count: Int = 64 * 1024) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = try SystemError.check("read") {
            buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
        }
        buffer.removeSubrange(n...)
        return buffer
    }

    /// Reads until end of file, failing once more than `limit` bytes arrive.
    public static func readAll(_ fd: Int32, limit: Int = .max) throws(SystemError) -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try read(fd)
            if chunk.isEmpty { return all }
            all += chunk
            if all.count > limit { throw SystemError("read (over \(limit) bytes)", errno: .fileTooLarge) }
        }
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
