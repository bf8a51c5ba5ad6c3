// The server's stream loop: read requests from a descriptor, answer each on another, until end of input.
// One channel carries many jobs back to back; a stream that loses its framing is closed, never guessed at.

import CompileCore
import DistccWire
import Logging
import POSIXSupport

/// How a request loop ended.
public enum LoopEnd: Equatable {
    /// End of input between requests.
    case finished
    /// End of input inside a request: the client gave up (stock distcc does this when preprocessing fails).
    case truncated
    /// The input was not the distcc protocol.
    case protocolError
    /// Reading or writing the stream failed.
    case ioError

    public var exitCode: Int32 {
        switch self {
        case .finished: 0
        case .truncated: ExitCode.truncatedRequest.rawValue
        case .protocolError: ExitCode.protocolError.rawValue
        case .ioError: ExitCode.localIOError.rawValue
        }
    }
}

public enum RequestLoop {
    /// Serves requests from `input`, replying on `output`, until the stream ends or breaks.
    public static func serve(input: Int32, output: Int32, runner: inout JobRunner, logger: Logger) -> LoopEnd {
        var decoder = RequestDecoder(limits: runner.limits)
        while true {
            let chunk: [UInt8]
            do {
                chunk = try FileDescriptorIO.read(input)
            } catch {
                logger.error("reading the request stream: \(error)")
                return .ioError
            }
            if chunk.isEmpty {
                do {
                    try decoder.finish()
                    return .finished
                } catch {
                    logger.notice("client closed the stream early: \(error)")
                    return .truncated
                }
            }
            decoder.append(chunk)
            do {
                while let request = try decoder.next() {
                    let reply = runner.run(request)
                    try FileDescriptorIO.writeAll(output, WireEncoder.encode(reply))
                }
            } catch let error as WireError {
                logger.error("\(error); closing the stream")
                return .protocolError
            } catch {
                logger.error("writing a reply: \(error)")
                return .ioError
            }
        }
    }
}
