// DirectivesOnlyText ↔ DirectivesOnlyText.swift: which directives-only texts need plain text, with real gcc
// output where gcc's behaviour is the point (stand-in files for the pragma lookups).

import PreprocessedText
import Testing

@Suite struct DirectivesOnlyTextTests {
    static func reason(_ text: String, files: [String: String] = [:]) -> String? {
        DirectivesOnlyText.plainTextReason(Array(text.utf8)) { files[$0].map { Array($0.utf8) } }
    }

    @Test func macrosWhoseValueDependsOnTheMachineNeedPlainText() {
        for name in ["__DATE__", "__TIME__", "__TIMESTAMP__", "__BASE_FILE__", "__INCLUDE_LEVEL__"] {
            #expect(Self.reason("# 1 \"x.c\"\nconst char *s = \(name);\n")?.contains(name) == true)
        }
        #expect(Self.reason("# 1 \"x.c\"\nint __TIME_x = __LINE__ + __COUNTER__;\nconst char *f = __FILE__;\n") == nil)
    }

    /// gcc 12 leaves a line of blanks where it carried out a pragma (`#pragma` is seven characters).
    @Test func consumedPragmasAreLookedUpInTheirFiles() {
        let header = "#pragma once\nint y;\n#pragma GCC system_header\nint w;\n"
        let text = """
            # 1 "p.c"
            # 1 "p.h" 1
                   
            int y;
                   
            # 4 "p.h" 3
            int w;
            # 2 "p.c" 2
            int x;
                   

            """
        let main = "#include \"p.h\"\nint x;\n"
        #expect(Self.reason(text, files: ["p.h": header, "p.c": main + "#pragma GCC warning \"w\"\n"]) == nil)
        let poison = Self.reason(text, files: ["p.h": header, "p.c": main + "  #  pragma GCC poison zz\n"])
        #expect(poison?.contains("poison") == true)
        let push = Self.reason(text, files: ["p.h": header, "p.c": main + "#pragma push_macro(\"X\")\n"])
        #expect(push?.contains("push_macro") == true)
        // A system_header pragma is known by the marker that follows it: its file is not read.
        #expect(Self.reason(text, files: ["p.h": "#pragma once\n", "p.c": main + "#pragma once\n"]) == nil)
        #expect(Self.reason(text, files: ["p.c": main + "#pragma once\n"])?.contains("cannot be looked up") == true)
    }

    /// An indented directive leaves its indentation (libstdc++'s `  #if !__GXX_WEAK__`).
    @Test func indentedDirectivesLeaveBlanksThatNeedNothing() {
        let source = "int a;\n  #if X\nint b;\n  #endif\n"
        #expect(Self.reason("# 1 \"x.c\"\nint a;\n  \nint b;\n  \n", files: ["x.c": source]) == nil)
    }

    @Test func aSourceLineOfBlanksIsNotAPragma() {
        #expect(Self.reason("# 1 \"x.c\"\nint a;\n   \nint b;\n", files: ["x.c": "int a;\n   \nint b;\n"]) == nil)
        #expect(Self.reason("# 1 \"x.c\"\nint a;\n   \n", files: ["x.c": "int a;\nfoo\n"]) != nil)
    }
}
