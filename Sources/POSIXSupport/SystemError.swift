// One error type for failed system calls: what was attempted, on which path, and errno's text.

import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call, with the operation and path it concerned.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String?
    public var errno: Errno

    public init(_ operation: String, path: String? = nil, errno: Errno = Errno(rawValue: Glibc.errno)) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(operation)\(path.map { " \($0)" } ?? ""): \(String(cString: strerror(errno.rawValue)))"
    }

    /// Runs `body` until it stops failing with EINTR; throws on any other -1 result.
    @discardableResult
    public static func check<T: BinaryInteger>(_ operation: String, path: String? = nil, _ body: () -> T)
        throws(SystemError) -> T
    {
        while true {
            let result = body()
            if result != -1 { return result }
            if Glibc.errno == EINTR { continue }
            throw SystemError(operation, path: path)
        }
    }
}
