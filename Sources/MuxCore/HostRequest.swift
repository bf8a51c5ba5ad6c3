// A job's request as its host reads it. The wrapper hands the daemon a version 1 request; the host's
// compression sets the version the bodies travel in (Docs/protocol.md), and Debian's distccd (`,distccd`
// hosts) also needs its own command line: distccd names its temporary input after the source's suffix and
// lets gcc pick the language from that suffix or from `-x`; sshccd instead always compiles the preprocessed
// language. So the request is given a source name with the preprocessed suffix (x.c → x.i, x.cpp → x.ii)
// and loses its `-x` options, which would otherwise make gcc preprocess the text again.

import CompileCore
import DistccWire

public enum HostRequest {
    /// A whole version 1 request (JOBR) as its head (`requestFields`) and source; nil if it is not one.
    public static func split(_ request: [UInt8]) -> (head: [UInt8], source: [UInt8])? {
        var decoder = RequestDecoder()
        decoder.append(request)
        guard let decoded = try? decoder.next(), decoded.version == ProtocolVersion.plain, decoder.isAtBoundary
        else { return nil }
        return (WireEncoder.requestFields(decoded), decoded.source)
    }

    /// A version 1 head as `spec`'s server reads it: the version of `compression` (the host entry's, or plain
    /// once a server refused it), and for stock distccd its own command line. Bytes that do not decode are
    /// passed on as they are (the server reports the protocol error).
    public static func head(_ head: [UInt8], for spec: HostSpec, compression: BodyCompression) -> [UInt8] {
        guard compression != .plain || spec.runsStockDistccd else { return head }
        var decoder = RequestDecoder()
        decoder.append(head + WireEncoder.sourceFrame([], version: ProtocolVersion.plain))
        guard var decoded = try? decoder.next(), decoded.version == ProtocolVersion.plain else { return head }
        if spec.runsStockDistccd { decoded.arguments = StockDistccd.arguments(decoded.arguments) }
        decoded.version = compression.protocolVersion
        return WireEncoder.requestFields(decoded)
    }

    /// The source's DOTI frame, compressed as `compression` says.
    public static func source(_ source: [UInt8], compression: BodyCompression) -> [UInt8] {
        WireEncoder.sourceFrame(source, version: compression.protocolVersion)
    }
}

public enum StockDistccd {
    /// The command line as distccd should get it; unchanged when it is not a distributable compile.
    public static func arguments(_ arguments: [String]) -> [String] {
        guard case .distribute(let plan) = ArgScanner.scan(arguments),
            let sourceIndex = arguments.lastIndex(of: plan.source)
        else { return arguments }
        var adapted = arguments
        adapted[sourceIndex] = PathName.dropSuffix(plan.source) + plan.language.preprocessedSuffix
        return ArgScanner.removing(adapted) { $0.hasPrefix("-x") ? "-x" : nil }
    }
}

extension BodyCompression {
    /// The distcc protocol version that carries bodies compressed this way.
    public var protocolVersion: UInt32 {
        switch self {
        case .plain: ProtocolVersion.plain
        case .lzo: ProtocolVersion.lzo
        case .zstd: ProtocolVersion.zstd
        }
    }
}
