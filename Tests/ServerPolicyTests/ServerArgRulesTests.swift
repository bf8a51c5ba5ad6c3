// ServerArgRules ↔ ServerArgRules.swift and AssemblyPolicy ↔ AssemblyPolicy.swift: the server's allow-list,
// one row per rule, and the look at the assembly before the assembler reads it.

import CompileCore
import ServerPolicy
import Testing

@Suite struct ServerArgRulesTests {
    static func plan(_ arguments: [String]) -> ServerPlan {
        ServerArgPolicy.plan(["gcc"] + arguments + ["-c", "a.c"], allowList: CompilerAllowList(), jobDirectory: "/j")
    }

    /// Each refused argument, with a word of the reason the client reads.
    @Test(arguments: [
        // Loads code or runs a program.
        (["-fplugin=/tmp/p.so"], "load code"), (["-fplugin-arg-x-y=1"], "load code"),
        (["-iplugindir=/tmp"], "load code"), (["-fpass-plugin=p.so"], "load code"),
        (["-Xclang", "-load"], "load code"),
        (["-mllvm", "-x"], "load code"), (["-fmodule-mapper=|nc evil 80"], "load code"),
        (["-wrapper", "/bin/sh"], "load code"), (["-B/tmp/x"], "load code"), (["-B", "/tmp/x"], "load code"),
        (["-specs=/tmp/s"], "load code"), (["--specs=/tmp/s"], "load code"),
        // Reads or writes files outside the job.
        (["@/etc/passwd"], "files"), (["-save-temps"], "files"), (["-save-temps=obj"], "files"),
        (["-fdump-tree-all"], "files"), (["-fdumpnoexecstack"], "files"), (["-aux-info", "/tmp/x"], "files"),
        (["-MF", "/tmp/x.d"], "files"),
        (["-MD"], "files"), (["-MMD"], "files"), (["-fprofile-use=/tmp/p"], "files"),
        (["-fprofile-generate"], "files"), (["-fauto-profile=/tmp/p"], "files"), (["-fstack-usage"], "files"),
        (["-fcallgraph-info"], "files"), (["-fcompare-debug"], "files"),
        (["-fdiagnostics-format=sarif-file"], "files"), (["-fdiagnostics-add-output=sarif"], "files"),
        (["-fmodules-ts"], "files"), (["-fmodule-file=x.pcm"], "files"),
        (["-fsanitize-ignorelist=/etc/passwd"], "files"), (["-fsanitize-blacklist=/etc/passwd"], "files"),
        (["-fopt-info-vec=/tmp/x"], "files"), (["-ftime-trace"], "files"), (["-fsave-optimization-record"], "files"),
        (["-gsplit-dwarf"], "files"), (["-dumpdir", "/tmp/"], "files"), (["-dumpbase", "x"], "files"),
        (["-time=/tmp/t"], "files"), (["-include", "/etc/passwd"], "files"), (["-imacros", "/etc/passwd"], "files"),
        (["-Xassembler", "-a=/tmp/l"], "files"), (["-Wp,-MD,/tmp/x"], "files"), (["--coverage"], "files"),
        (["-ftest-coverage"], "files"), (["-fdeps-file=/tmp/x"], "files"), (["-fvtv-debug"], "files"),
        // Not a compile to an object.
        (["-E"], "object"), (["-S"], "object"), (["-M"], "object"), (["-###"], "object"),
        (["-print-prog-name=cc1"], "object"), (["-dumpspecs"], "object"),
        // Dumps, assembler options, paths, the unknown.
        (["-da"], "dumps"), (["-dA"], "dumps"), (["-Wa,-adhln=/tmp/l"], "assembler"), (["-Wa,-aln"], "assembler"),
        (["-Wa,--MD,/tmp/d"], "assembler"), (["-Wa,-I/etc"], "assembler"), (["-Wa,@/etc/passwd"], "assembler"),
        (["-Wa,-o,/tmp/x"], "assembler"), (["-Wa,--64,-a"], "assembler"),
        // gas's clustering and abbreviations: `-Wa` is `-W -a` (a listing), `--gen` could be any `--gen…`.
        (["-Wa,-Wa"], "assembler"), (["-Wa,-Wahls=l"], "assembler"), (["-Wa,-WL"], "assembler"),
        (["-Wa,--gen"], "assembler"), (["-Wa,-gdwarf-5x"], "assembler"), (["-Wa,in.s"], "assembler"),
        (["-Wa,@opts"], "assembler"), (["-Wa,-Iinc"], "assembler"), (["-Wa,--"], "assembler"),
        (["-Wa,--64,"], "assembler"), (["-Wa,-mtune=-a"], "assembler"), (["-Wa,-march=../x"], "assembler"),
        (["-finstrument-functions-exclude-file-list=/etc/x"], "path"), (["-mstack-protector-guard-symbol=a/b"], "path"),
        (["--param", "x=/tmp/y"], "path"), (["--frobnicate"], "list"), (["-Z"], "list"), (["-rpath"], "list"),
        (["-x", "assembler"], "language"), (["-x", "c-header"], "language"), (["-xassembler-with-cpp"], "language"),
    ])
    func refused(_ arguments: [String], _ word: String) {
        guard case .refuse(let reason) = Self.plan(arguments) else {
            Issue.record("\(arguments) was accepted")
            return
        }
        #expect(reason.contains(word), "\(reason)")
    }

    /// Kept: passed to the compiler as they are.
    @Test(arguments: [
        ["-O2"], ["-Os"], ["-g"], ["-ggdb", "-gdwarf-4"], ["-gz"], ["-Wall", "-Wextra", "-Werror=format"], ["-w"],
        ["-std=gnu11"], ["-ansi", "-pedantic-errors"], ["-fPIC"], ["-fno-strict-aliasing", "-fstack-protector-strong"],
        ["-march=x86-64-v2", "-mtune=generic", "-m64"], ["-fsanitize=address,undefined"],
        ["--param", "inline-unit-growth=20"],
        ["--param=max-inline-insns-single=40"], ["-fdebug-prefix-map=/home/u=/src"], ["-ffile-prefix-map=/a=/b"],
        ["-frandom-seed=build/x.o"], ["-Wa,--noexecstack"], ["-Wa,-mrelax-relocations=no,--64"], ["-pthread"],
        ["-Wa,-W"], ["-Wa,--gen-debug,--compress-debug-sections=zlib"],
        ["-fopt-info-vec-optimized"], ["-flto"], ["-fsyntax-only"], ["-pg"], ["-target", "x86_64-linux-gnu"],
    ])
    func kept(_ arguments: [String]) {
        guard case .compile(let plan) = Self.plan(arguments) else {
            Issue.record("\(arguments) was refused: \(Self.plan(arguments))")
            return
        }
        #expect(Array(plan.arguments.dropFirst(2).prefix(arguments.count)) == arguments)
        #expect(Array(plan.assembleArguments.prefix(arguments.count)) == arguments)
    }

    /// Dropped: preprocessor and linker options, which cannot change the compile of preprocessed source.
    @Test(arguments: [
        ["-DX=1"], ["-I/inc"], ["-I", "/inc"], ["-isystem", "/sys"], ["-MT", "x.o"], ["-MP"], ["-Wl,-rpath,/x"],
        ["-L/lib"], ["-lm"], ["-Xlinker", "--as-needed"], ["--sysroot=/x"], ["--sysroot", "/x"], ["-pipe"],
        ["-T", "/etc/passwd"],
    ])
    func dropped(_ arguments: [String]) {
        guard case .compile(let plan) = Self.plan(arguments) else {
            Issue.record("\(arguments) was refused")
            return
        }
        #expect(plan.arguments == ["-x", "cpp-output", "-", "-S", "-o", "/j/a.s"])
    }

    @Test func clangCompilesTheCheckedSourceAgain() {
        guard
            case .compile(let plan) = ServerArgPolicy.plan(
                ["clang", "-O2", "-c", "a.c"], allowList: CompilerAllowList(), jobDirectory: "/j")
        else { Issue.record("refused"); return }
        #expect(plan.arguments == ["-x", "cpp-output", "-O2", "/j/a.i", "-S", "-o", "/j/a.s"])
        #expect(plan.assembleArguments == ["-x", "cpp-output", "-O2", "/j/a.i", "-c", "-o", "/j/a.o"])
        #expect(!plan.readsStandardInput)
    }

    @Test(arguments: [
        "\t.incbin \"/etc/passwd\"\n", "\t.INCBIN \"/etc/passwd\"\n", "\t.IncBin \"/etc/passwd\"\n",
        "x: .include \"/etc/passwd\"\n", "nop; .include \"a\"\n", "\t.macro m a\n\t.\\a \"/etc/passwd\"\n\t.endm\n",
        "\t.irp d,incbin\n\t.\\d \"/etc/passwd\"\n\t.endr\n", "\t.irpc c,ab\n\t.endr\n", "\t.mri 1\n\tincbin \"/x\"\n",
        ".incbin\"/etc/passwd\"",
    ])
    func assemblyThatReadsFilesIsRefused(_ text: String) {
        #expect(AssemblyPolicy.refusal(Array(("\t.text\nf:\n" + text).utf8)) != nil)
    }

    @Test(arguments: [
        "\t.file\t\"a.c\"\n\t.text\n\t.globl\tf\nf:\n\tret\n\t.ident\t\"GCC\"\n",
        "\t.section\t.rodata\n.LC0:\n\t.string\t\"incbin\"\n", "\tcall\tinclude\n", "\t.globl my.include\n",
        "\t.includes_not\n", "\t.irpq\n",
    ])
    func ordinaryAssemblyPasses(_ text: String) {
        #expect(AssemblyPolicy.refusal(Array(text.utf8)) == nil)
    }

    /// The screen over a text in pieces passes exactly when the whole-text check would, passes the text
    /// unchanged when it does, and never passes a byte of a refused line.
    @Test func assemblyInPiecesIsCheckedAsTheWholeText() {
        var random = SystemRandomNumberGenerator()
        let parts = [
            "\t.text\n", "f:\n", "\tret\n", "\t.string \"incbin\"\n", "\t.globl my.include\n", ".incbin \"/x\"\n",
            "\t.INCLUDE \"a\"\n", "\t.mri 1\n", "\t.irpq\n", "\t.macr", "o m\n", "x.inc", "bin\n", ".", "incbin",
            "\n", "\t.ident \"GCC\"",
        ]
        for _ in 0..<2_000 {
            let text = Array(
                (0..<Int.random(in: 0...12, using: &random)).map { _ in parts.randomElement()! }
                    .joined().utf8)
            var screen = AssemblyScreen()
            var passed: [UInt8] = []
            var refused = false
            var start = 0
            while !refused {
                let end = min(text.count, start + Int.random(in: 0...9, using: &random))
                let atEnd = end == text.count
                if let lines = screen.pass(Array(text[start..<end]), atEnd: atEnd) {
                    passed += lines
                } else {
                    refused = true
                }
                start = end
                if atEnd { break }
            }
            let whole = AssemblyPolicy.refusal(text)
            #expect(refused == (whole != nil), "\(String(decoding: text, as: UTF8.self))")
            #expect(refused == (screen.refusal != nil))
            #expect(AssemblyPolicy.refusal(passed) == nil)
            #expect(Array(text.prefix(passed.count)) == passed)
            if !refused { #expect(passed == text) }
        }
    }
}
