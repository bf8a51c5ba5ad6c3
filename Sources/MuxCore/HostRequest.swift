// A job's request as its host reads it. The wrapper hands the daemon a version 1 request; the host's
// compression sets the version the bodies travel in (Docs/protocol.md), and Debian's distccd (`,distccd`
// hosts) also needs its own command line: distccd names its temporary input after the source's suffix and
// lets gcc pick the language from that suffix or from `-x`; sshccd instead always compiles the preprocessed
// language. So the request is given a source name with the preprocessed suffix (x.c → x.i, x.cpp → x.ii)
// and loses its `-x` options, which would otherwise make gcc preprocess the text again.

import CompileCore
import DistccWire

public enum HostRequest {
    /// `request` (version 1) for `spec`'s server, compressed as the host spec (or a server that refused
    /// compression: `compression`) says. Bytes that do not decode are passed on as they are.
    public static func encode(_ request: [UInt8], for spec: HostSpec, compression: BodyCompression) -> [UInt8] {
        guard compression != .plain || spec.runsStockDistccd else { return request }
        var decoder = RequestDecoder()
        decoder.append(request)
        guard var decoded = try? decoder.next(), decoded.version == ProtocolVersion.plain else { return request }
        if spec.runsStockDistccd { decoded.arguments = StockDistccd.arguments(decoded.arguments) }
        decoded.version = compression.protocolVersion
        return WireEncoder.encode(decoded)
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
