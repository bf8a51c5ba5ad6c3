// One job over a byte stream, blocking: send the request, read until a complete reply. The interop test
// runs it over a pipe pair against a stock `distccd --inetd`, to show that the requests sshcc encodes and the
// replies it decodes are distcc's. (The mux daemon does the same exchange non-blocking, in HostConnection.)

import DistccWire
import POSIXSupport

/// A bidirectional byte stream that carries distcc jobs.
protocol JobStream: AnyObject {
    func send(_ bytes: [UInt8]) throws
    /// The next bytes; empty at end of stream.
    func receive() throws -> [UInt8]
}

/// How an exchange failed.
enum ExchangeError: Error, CustomStringConvertible {
    /// The stream broke while sending or receiving.
    case transport(any Error)
    /// The peer's bytes were not a distcc reply.
    case protocolError(WireError)
    /// The stream ended before a complete reply; `receivedNothing` when not one reply byte came.
    case ended(WireError, receivedNothing: Bool)

    var description: String {
        switch self {
        case .transport(let error): "\(error)"
        case .protocolError(let error): "\(error)"
        case .ended(let error, _): "\(error)"
        }
    }
}

enum JobExchange {
    /// Sends `request` and returns the reply.
    static func run(_ request: Request, over stream: JobStream, limits: WireLimits = .default)
        throws(ExchangeError) -> Reply
    {
        var sendError: (any Error)?
        do {
            try stream.send(WireEncoder.requestHead(request))
            try stream.send(request.source)
        } catch {
            // A server that refuses early may close while we still send: its reply may already be here.
            sendError = error
        }
        var decoder = ReplyDecoder(limits: limits)
        while true {
            let bytes: [UInt8]
            do {
                bytes = try stream.receive()
            } catch {
                throw .transport(sendError ?? error)
            }
            if bytes.isEmpty {
                if let sendError { throw .transport(sendError) }
                // Between replies, finish() succeeds: the stream ended before one byte of this reply came.
                do {
                    try decoder.finish()
                } catch {
                    throw .ended(error, receivedNothing: false)
                }
                throw .ended(.truncated(expecting: decoder.expecting, bufferedBytes: 0), receivedNothing: true)
            }
            decoder.append(bytes)
            do {
                if let reply = try decoder.next() { return reply }
            } catch {
                throw .protocolError(error)
            }
        }
    }
}

/// A job stream over two file descriptors it owns (a pipe pair or a socket).
final class FileDescriptorStream: JobStream {
    let input: FileDescriptor
    let output: FileDescriptor

    init(input: consuming FileDescriptor, output: consuming FileDescriptor) {
        self.input = consume input
        self.output = consume output
    }

    func send(_ bytes: [UInt8]) throws { try FileDescriptorIO.writeAll(output, bytes) }
    func receive() throws -> [UInt8] { try FileDescriptorIO.read(input) }
}
