// StockDistccd ↔ StockDistccd.swift: requests rewritten for Debian's distccd keep the preprocessed language.

import DistccWire
import MuxCore
import Testing

@Suite struct StockDistccdTests {
    func adapted(_ arguments: [String]) throws -> Request {
        let request = WireEncoder.encode(Request(arguments: arguments, source: Array("int x;\n".utf8)))
        var decoder = RequestDecoder()
        decoder.append(StockDistccd.adapt(request))
        return try #require(try decoder.next())
    }

    @Test func sourceGetsThePreprocessedSuffixAndLosesDashX() throws {
        let cxx = try adapted(["g++", "-O1", "-x", "c++", "-c", "src/plain.c", "-o", "x.o"])
        #expect(cxx.arguments == ["g++", "-O1", "-c", "src/plain.ii", "-o", "x.o"])
        #expect(cxx.source == Array("int x;\n".utf8))
        #expect(try adapted(["gcc", "-c", "a.c", "-o", "a.o"]).arguments == ["gcc", "-c", "a.i", "-o", "a.o"])
        #expect(
            try adapted(["gcc", "-xc", "-c", "w.txt", "-o", "w.o"]).arguments == ["gcc", "-c", "w.i", "-o", "w.o"])
    }

    @Test func anythingElseIsLeftAlone() {
        let odd = WireEncoder.encode(Request(arguments: ["gcc", "-E", "a.c"], source: []))
        #expect(StockDistccd.adapt(odd) == odd)
        #expect(StockDistccd.adapt(Array("garbage".utf8)) == Array("garbage".utf8))
    }
}
