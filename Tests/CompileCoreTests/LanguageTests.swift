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

/// A wait status read one way everywhere: exit code, signal, and the shell's view of it.
struct WaitStatusTests {
    @Test func exitsAndSignalsAreToldApart() {
        #expect(WaitStatus.exited(3).exitCode == 3 && WaitStatus.exited(3).signal == nil)
        #expect(WaitStatus(9).exitCode == nil && WaitStatus(9).signal == 9 && WaitStatus(9).shellStatus == 137)
        #expect(WaitStatus(0x137f).signal == nil, "stopped, not ended")
        #expect(WaitStatus.exited(256 + 1).exitCode == 1, "only the low 8 bits of a code survive")
    }
}
