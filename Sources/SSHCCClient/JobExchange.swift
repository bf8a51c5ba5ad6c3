// One job over a byte stream: send the request, read until a complete reply. The stream is an SSH channel
// in production and a pipe pair in the interop test against stock distccd; the exchange knows neither.

import DistccWire
import POSIXSupport

/// A bidirectional byte stream that carries distcc jobs.
public protocol JobStream: AnyObject {
    func send(_ bytes: [UInt8]) throws
    /// The next bytes; empty at end of stream.
    func receive() throws -> [UInt8]
}

/// How an exchange failed.
public enum ExchangeError: Error, CustomStringConvertible {
    /// The stream broke while sending or receiving.
    case transport(any Error)
    /// The peer's bytes were not a distcc reply.
    case protocolError(WireError)
    /// The stream ended before a complete reply; `receivedNothing` when not one reply byte came.
    case ended(WireError, receivedNothing: Bool)

    public var description: String {
        switch self {
        case .transport(let error): "\(error)"
        case .protocolError(let error): "\(error)"
        case .ended(let error, _): "\(error)"
        }
    }
}

public enum JobExchange {
    /// Sends `request` and returns the reply.
    public static func run(_ request: Request, over stream: JobStream, limits: WireLimits = .default)
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

/// A job stream over two file descriptors (a pipe pair or a socket).
public final class FileDescriptorStream: JobStream {
    let input: Int32
    let output: Int32

    public init(input: Int32, output: Int32) {
        self.input = input
        self.output = output
    }

    public func send(_ bytes: [UInt8]) throws { try FileDescriptorIO.writeAll(output, bytes) }
    public func receive() throws -> [UInt8] { try FileDescriptorIO.read(input) }
}
