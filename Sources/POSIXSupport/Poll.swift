// Waiting on several descriptors at once (poll), and the state of this process, for the application
// targets: they name what they wait for and what they ask of the system here instead of calling the C
// library themselves.

import CPOSIX

#if canImport(Glibc)
    import Glibc
#endif

public enum Poll {
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(POLLIN))
        public static let writable = Events(rawValue: Int16(POLLOUT))
    }

    /// A descriptor to wait on, by number (its owner keeps it open across the wait), and what to wait for.
    public struct Entry: Sendable {
        var descriptor: Int32
        public var events: Events
        /// `fd` is waited on only `when` true (an entry keeps its place in the list either way).
        public init(_ fd: borrowing FileDescriptor, _ events: Events = .readable, when wanted: Bool = true) {
            self.init(number: wanted ? fd.number : -1, events)
        }
        init(number: Int32, _ events: Events) {
            self.descriptor = number
            self.events = events
        }
        /// A place in the list that waits on nothing.
        public static let nothing = Entry(number: -1, [])
    }

    /// What poll found about one entry.
    public struct Ready: OptionSet, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Ready(rawValue: Int16(POLLIN))
        public static let writable = Ready(rawValue: Int16(POLLOUT))
        /// The peer hung up, or the descriptor is in error (or not open).
        public static let gone = Ready(rawValue: Int16(POLLHUP | POLLERR | POLLNVAL))
    }

    /// Waits up to `milliseconds` (-1: without limit) until an entry is ready; what happened to each entry.
    /// An interrupted or timed-out wait returns with nothing ready.
    public static func events(_ entries: [Entry], milliseconds: Int32) -> [Ready] {
        var fds = pollfds(entries)
        guard poll(&fds, nfds_t(fds.count), milliseconds) > 0 else { return entries.map { _ in [] } }
        return fds.map { Ready(rawValue: $0.revents) }
    }

    /// Like `events`: for each entry, whether anything at all happened to it.
    public static func wait(_ entries: [Entry], milliseconds: Int32) -> [Bool] {
        events(entries, milliseconds: milliseconds).map { !$0.isEmpty }
    }

    static func pollfds(_ entries: [Entry]) -> [pollfd] {
        entries.map { pollfd(fd: $0.descriptor, events: $0.events.rawValue, revents: 0) }
    }
}

/// This process: who it is, and what it asks of the system for itself.
public enum CurrentProcess {
    public static var id: Int32 { getpid() }
    public static var userID: UInt32 { getuid() }

    /// The working directory, nil when it cannot be named (removed, too long).
    public static var workingDirectory: String? {
        guard let path = getcwd(nil, 0) else { return nil }
        defer { free(path) }
        return String(cString: path)
    }

    /// Writes to a peer that left fail with EPIPE instead of killing the process.
    public static func ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

    public static func sleep(milliseconds: Int) { usleep(UInt32(max(0, milliseconds)) * 1000) }

    /// Ends the process with `status` (buffered standard output is flushed).
    public static func exit(_ status: Int32) -> Never { Glibc.exit(status) }

    /// Seconds since 1970 (the wall clock, for certificates' validity).
    public static var unixTime: UInt64 { UInt64(max(0, time(nil))) }
}

extension Files {
    /// Device and inode of `path` itself (not what a symlink points to), to tell one file from another that
    /// later took its name; nil when there is none.
    public static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// Removes `path` (a file or socket); nothing when it is not there.
    public static func remove(_ path: String) { unlink(path) }
}

extension UnixSocket {
    public enum Pending: Sendable {
        /// Bytes wait to be read.
        case bytes
        /// The peer closed its end (or the connection broke).
        case ended
        /// Nothing yet.
        case nothing
    }

    /// What a read on `fd` would find now, without taking anything.
    public static func pending(_ fd: borrowing FileDescriptor) -> Pending {
        var byte: UInt8 = 0
        let peeked = recv(fd.number, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if peeked > 0 { return .bytes }
        if peeked == 0 || (errno != EAGAIN && errno != EINTR) { return .ended }
        return .nothing
    }
}

extension Environment {
    /// Sets `name` for this process and the programs it starts.
    public static func set(_ name: String, _ value: String) { setenv(name, value, 1) }
}
