// Language ↔ Language.swift and PathName: suffix rules and path helpers.

import CompileCore
import Testing

@Suite struct LanguageTests {
    @Test func suffixes() {
        #expect(Language.fromFileName("a.c")! == (.c, false))
        #expect(Language.fromFileName("dir.d/a.ii")! == (.cxx, true))
        #expect(Language.fromFileName("a.C")! == (.cxx, false))
        #expect(Language.fromFileName("a.h") == nil)
        #expect(Language.fromFileName("dir.c/file") == nil)
        #expect(Language.fromFileName("noext") == nil)
    }

    @Test func paths() {
        #expect(PathName.base("/a/b/c.o") == "c.o")
        #expect(PathName.dropSuffix("dir/x.c") == "dir/x")
        #expect(PathName.dropSuffix("dir.d/x") == "dir.d/x")
        #expect(PathName.dropSuffix(".hidden") == ".hidden")
    }

    @Test func exitCodesAreAbove100AndDistinct() {
        let values = ExitCode.allCases.map(\.rawValue)
        #expect(values.allSatisfy { $0 > 100 && $0 < 126 })
        #expect(Set(values).count == values.count)
    }
}
