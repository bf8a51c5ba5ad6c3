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

    @Test func sourcesThatWouldReadServerFilesAreRefused() {
        #expect(SourcePolicy.refusal(Array("int x;\n".utf8)) == nil)
        #expect(SourcePolicy.refusal(Array("#pragma GCC pch_preprocess \"/etc/passwd\"\n".utf8)) != nil)
        #expect(SourcePolicy.refusal(Array("_Pragma(\"GCC pch_preprocess \\\"/x\\\"\")".utf8)) != nil)
        #expect(SourcePolicy.refusal(Array("asm(\".incbin \\\"/etc/shadow\\\"\");".utf8)) != nil)
        #expect(SourcePolicy.refusal([]) == nil)
    }
}
