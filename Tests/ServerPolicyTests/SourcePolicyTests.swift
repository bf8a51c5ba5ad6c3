// SourcePolicy ↔ SourcePolicy.swift: preprocessed text that would make gcc or clang read a server file is
// refused; what `gcc -E` (and `-dD`) writes passes. Each hostile row was checked by hand against gcc 12 and
// clang 21 (`-x cpp-output`): the compiler looked at the named file.

import CompileCore
import ServerPolicy
import Testing

@Suite struct SourcePolicyTests {
    /// (text, refused for gcc, refused for clang)
    @Test(arguments: [
        ("#pragma GCC pch_preprocess \"/etc/passwd\"\n", true, true),
        ("_Pragma(\"GCC pch_preprocess \\\"/x\\\"\")\n", true, true),
        ("asm(\".incbin \\\"/etc/shadow\\\"\");\n", true, true),
        ("#pragma GCC dependency \"/etc/shadow\"\n", true, true),
        ("#pragma GCC /**/ dependency \"/etc/shadow\"\n", true, true),
        ("  #  pragma   GCC\tdependency \"/x\"\n", true, true),
        ("#pragma GCC \\\ndependency \"/x\"\n", true, true),
        ("%:pragma GCC dependency \"/x\"\n", true, true),
        ("??=pragma GCC dependency \"/x\"\n", true, true),
        ("#include \"/etc/passwd\"\n", true, true), ("#import \"/etc/passwd\"\n", true, true),
        ("#include_next <x>\n", true, true), ("#embed \"/etc/passwd\"\n", true, true),
        ("/* a */ #include \"/etc/passwd\"\n", true, true), ("#/* a */include \"/etc/passwd\"\n", true, true),
        ("#/* a\n b */include \"/etc/passwd\"\n", true, true), ("#inc\\\nlude \"/etc/passwd\"\n", true, true),
        ("#if __has_include(\"/etc/shadow\")\nint x;\n#endif\n", true, true),
        ("int a; \\\n#pragma GCC dependency \"/x\"\n", true, true),
        ("// x \\\n#pragma GCC dependency \"/x\"\n", true, true),
        ("char *s = \"/*\";\n#include \"/etc/passwd\"\n/* */\n", true, true),
        ("char c = '\"';\n#include \"/etc/passwd\"\n", true, true),
        ("#define P(x) _Pragma(#x)\nP(GCC dependency \"/x\")\n", false, true),
        ("#define F \"/etc/passwd\"\nint x;\n", false, true),
        ("_Pragma(\"GCC diagnostic push\")\n", false, true),
    ])
    func hostile(_ text: String, _ gcc: Bool, _ clang: Bool) {
        #expect((SourcePolicy.refusal(Array(text.utf8)) != nil) == gcc, "gcc: \(text)")
        #expect((SourcePolicy.refusal(Array(text.utf8), clang: true) != nil) == clang, "clang: \(text)")
    }

    /// What preprocessors write: line markers, pragmas, #ident, -dD's definitions (gcc), comments kept by -C.
    @Test(arguments: [
        "# 1 \"a.c\"\n# 1 \"<built-in>\"\n# 1 \"a.c\"\nint x;\n# 12 \"a.c\" 3 4\n",
        "#line 7 \"a.c\"\nint y;\n", "#pragma GCC diagnostic push\n#pragma once\n#pragma pack(1)\n",
        "#ident \"$Id$\"\n", "#\n", "/* # include \"x\" */ int z;\n", "char *s = \"#include <x>\";\n",
        "int a; /* comment\n#include \"x\"\n */ int b;\n", "#pragma omp parallel for\n", "",
    ])
    func ordinary(_ text: String) {
        #expect(SourcePolicy.refusal(Array(text.utf8)) == nil, "gcc: \(text)")
        #expect(SourcePolicy.refusal(Array(text.utf8), clang: true) == nil, "clang: \(text)")
    }

    @Test func definitionsFromDashDDPassForGCCOnly() {
        let text = Array("#define X 1\n#undef X\nint x;\n".utf8)
        #expect(SourcePolicy.refusal(text) == nil)
        #expect(SourcePolicy.refusal(text, clang: true) != nil)
    }
}
