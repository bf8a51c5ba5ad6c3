// Writing to the standard streams by descriptor: unbuffered, and free of C's shared FILE globals.

public enum Console {
    /// Writes `text` to standard error as is (add the newline yourself).
    public static func error(_ text: String) { try? FileDescriptorIO.writeAll(2, Array(text.utf8)) }

    /// Writes raw bytes to standard output or standard error, as a compiler would have.
    public static func write(_ bytes: [UInt8], to fd: Int32) throws(SystemError) {
        try FileDescriptorIO.writeAll(fd, bytes)
    }
}
