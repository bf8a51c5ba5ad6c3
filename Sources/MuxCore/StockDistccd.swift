// Requests for Debian's distccd (`,distccd` hosts). distccd names its temporary input after the source's
// suffix and lets gcc pick the language from that suffix or from `-x`; sshccd instead always compiles the
// preprocessed language. So the request is given a source name with the preprocessed suffix (x.c → x.i,
// x.cpp → x.ii) and loses its `-x` options, which would otherwise make gcc preprocess the text again.

import CompileCore
import DistccWire

public enum StockDistccd {
    /// `request` as distccd should get it; unchanged when it is not a distributable compile request.
    public static func adapt(_ request: [UInt8]) -> [UInt8] {
        var decoder = RequestDecoder()
        decoder.append(request)
        guard let decoded = try? decoder.next(), case .distribute(let plan) = ArgScanner.scan(decoded.arguments),
            let sourceIndex = decoded.arguments.lastIndex(of: plan.source)
        else { return request }
        var arguments = decoded.arguments
        arguments[sourceIndex] = PathName.dropSuffix(plan.source) + plan.language.preprocessedSuffix
        arguments = ArgScanner.removing(arguments) { $0.hasPrefix("-x") ? "-x" : nil }
        return WireEncoder.encode(Request(version: decoded.version, arguments: arguments, source: decoded.source))
    }
}
