// A job's request as its host reads it. The wrapper hands the daemon the command line and the source; the
// host's compression sets the version the bodies travel in (Docs/protocol.md), and Debian's distccd (`,distccd`
// hosts) also needs its own command line: distccd names its temporary input after the source's suffix and
// lets gcc pick the language from that suffix or from `-x`; sshccd instead always compiles the preprocessed
// language. So the request is given a source name with the preprocessed suffix (x.c → x.i, x.cpp → x.ii)
// and loses its `-x` options, which would otherwise make gcc preprocess the text again. gcc's directives-only
// text keeps `-fdirectives-only`: distccd's gcc then expands its macros as sshccd's does, but without sshcc's
// gcc plugin a -g object records that option (Docs/limitations.md).

import CompileCore
import DistccWire

public enum HostRequest {
    /// The head of the request (`DIST ARGC ARGV…`, no source) as `spec`'s server reads it: in `version`
    /// (the host's, see `firstVersion`), and for stock distccd with its own command line. sshccd also gets
    /// the client's toolchain identity, as a last argument it takes out and compares (stock distccd has no
    /// way to state its own: its hosts are unverified).
    public static func head(
        _ arguments: [String], for spec: HostSpec, version: DistccVersion, toolchain: String? = nil
    ) -> [UInt8] {
        let arguments =
            spec.runsStockDistccd
            ? StockDistccd.arguments(arguments)
            : arguments + (toolchain.map { [ToolchainCheck.argumentPrefix + $0] } ?? [])
        return WireEncoder.requestFields(Request(version: version, arguments: arguments, source: []))
    }

    /// The version a host is sent first: its entry's compression; for sshccd's zstd, with the source streamed
    /// so that it travels while the wrapper still preprocesses, and the server's load in each reply (version 6).
    public static func firstVersion(for spec: HostSpec) -> DistccVersion {
        DistccVersion(compression: spec.compression, streamed: !spec.runsStockDistccd)
    }

    /// What to send a server that refused `version` (an older sshccd): no load report (6 → 5), the source
    /// whole (5 → 4), then nothing compressed (→ 1).
    public static func olderVersion(than version: DistccVersion) -> DistccVersion {
        version.asksFirst
            ? .loadReported : version.reportsLoad ? .zstdStreamed : version.streamsSource ? .zstd : .plain
    }
}

public enum StockDistccd {
    /// The command line as distccd should get it; unchanged when it is not a distributable compile.
    public static func arguments(_ arguments: [String]) -> [String] {
        // `-fdirectives-only` (the wrapper's, kept for the compiler) is a local-only option to the scanner.
        guard case .distribute(let plan) = ArgScanner.scan(arguments.filter { $0 != ArgScanner.directivesOnlyOption }),
            let sourceIndex = arguments.lastIndex(of: plan.source)
        else { return arguments }
        var adapted = arguments
        adapted[sourceIndex] = PathName.dropSuffix(plan.source) + plan.language.preprocessedSuffix
        return ArgScanner.removing(adapted) { $0.hasPrefix("-x") ? "-x" : nil }
    }
}
