// HostRequest ↔ HostRequest.swift: the wrapper's version 1 request as each kind of host reads it —
// compressed as the host entry says, and with a command line Debian's distccd compiles as preprocessed.

import CompileCore
import DistccWire
import MuxCore
import Testing

@Suite struct HostRequestTests {
    static let source = Array(String(repeating: "int x;\n", count: 2000).utf8)

    func forHost(_ entry: String, _ arguments: [String], version: DistccVersion? = nil) throws -> (Request, Int) {
        let spec = try HostList.parseEntry(entry)
        let chosen = version ?? HostRequest.firstVersion(for: spec)
        let encoded =
            HostRequest.head(arguments, for: spec, version: chosen)
            + WireEncoder.sourceFrame(Self.source, version: chosen)
        var decoder = RequestDecoder()
        decoder.append(encoded)
        return (try #require(try decoder.next()), encoded.count)
    }

    @Test func sourceGetsThePreprocessedSuffixAndLosesDashXForDistccd() throws {
        let (cxx, _) = try forHost("h,distccd", ["g++", "-O1", "-x", "c++", "-c", "src/plain.c", "-o", "x.o"])
        #expect(cxx.arguments == ["g++", "-O1", "-c", "src/plain.ii", "-o", "x.o"])
        #expect(cxx.source == Self.source)
        #expect(
            try forHost("h,distccd", ["gcc", "-c", "a.c", "-o", "a.o"]).0.arguments == [
                "gcc", "-c", "a.i", "-o", "a.o",
            ])
        #expect(
            try forHost("h,distccd", ["gcc", "-xc", "-c", "w.txt", "-o", "w.o"]).0.arguments == [
                "gcc", "-c", "w.i", "-o", "w.o",
            ])
        // Directives-only text keeps its option, and its source still gets the preprocessed suffix.
        #expect(
            try forHost("h,distccd", ["g++", "-fdirectives-only", "-x", "c++", "-c", "p.c", "-o", "p.o"]).0.arguments
                == [
                    "g++", "-fdirectives-only", "-c", "p.ii", "-o", "p.o",
                ])
    }

    @Test(arguments: [
        ("h", DistccVersion.asksFirst), ("h,zstd", DistccVersion.asksFirst), ("h,lzo", DistccVersion.lzo),
        ("h,plain", DistccVersion.plain), ("h,distccd", DistccVersion.lzo),
        ("h,distccd,plain", DistccVersion.plain),
    ])
    func bodiesTravelInTheHostsCompression(_ entry: String, _ version: DistccVersion) throws {
        let arguments = ["gcc", "-c", "a.c", "-o", "a.o"]
        let (request, size) = try forHost(entry, arguments)
        #expect(request.version == version)
        #expect(request.source == Self.source)
        let raw = WireEncoder.encode(Request(arguments: arguments, source: Self.source)).count
        #expect(version == DistccVersion.plain ? size == raw : size < raw / 10)
    }

    /// A server that refuses questions gets the source always (7 → 6), one that refuses load reports gets none
    /// (6 → 5), one that refuses the streamed source gets it whole (5 → 4), one that refuses zstd or LZO gets
    /// bodies as they are (→ 1).
    @Test func aServerThatRefusedAVersionGetsAnOlderOne() throws {
        #expect(HostRequest.olderVersion(than: DistccVersion.asksFirst) == DistccVersion.loadReported)
        #expect(HostRequest.olderVersion(than: DistccVersion.loadReported) == DistccVersion.zstdStreamed)
        #expect(HostRequest.olderVersion(than: DistccVersion.zstdStreamed) == DistccVersion.zstd)
        #expect(HostRequest.olderVersion(than: DistccVersion.zstd) == DistccVersion.plain)
        #expect(HostRequest.olderVersion(than: DistccVersion.lzo) == DistccVersion.plain)
        for version in [DistccVersion.zstd, DistccVersion.plain] {
            let (request, _) = try forHost("h,zstd", ["gcc", "-c", "a.c", "-o", "a.o"], version: version)
            #expect(request.version == version)
            #expect(request.source == Self.source)
        }
    }

    @Test func anythingElseIsLeftAlone() throws {
        let spec = try HostList.parseEntry("h,distccd")
        let odd = WireEncoder.encode(Request(arguments: ["gcc", "-E", "a.c"], source: []))
        #expect(StockDistccd.arguments(["gcc", "-E", "a.c"]) == ["gcc", "-E", "a.c"])
        #expect(
            HostRequest.head(["gcc", "-E", "a.c"], for: spec, version: DistccVersion.plain)
                + WireEncoder.sourceFrame([], version: DistccVersion.plain) == odd)
    }
}
