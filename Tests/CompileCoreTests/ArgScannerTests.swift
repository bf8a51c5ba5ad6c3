// ArgScanner ↔ ArgScanner.swift, table-driven like distcc's ScanArgs_Case: command line → verdict.

import CompileCore
import Testing

/// One row: a command line, and either (source, output) when it is distributed or nil when it runs locally.
struct ScanCase: CustomTestStringConvertible, Sendable {
    let command: String
    let expected: (source: String, output: String)?
    var testDescription: String { command }

    static func distribute(_ command: String, _ source: String, _ output: String) -> ScanCase {
        ScanCase(command: command, expected: (source, output))
    }
    static func local(_ command: String) -> ScanCase { ScanCase(command: command, expected: nil) }
}

@Suite struct ArgScannerTests {
    static let cases: [ScanCase] = [
        .distribute("gcc -c hello.c", "hello.c", "hello.o"),
        .distribute("gcc -c hello.c -o hello.o", "hello.c", "hello.o"),
        .distribute("gcc -c src/hello.c", "src/hello.c", "hello.o"),
        .distribute("gcc -c -o build/h.o src/hello.c", "src/hello.c", "build/h.o"),
        .distribute("gcc -obuild/h.o -c hello.c", "hello.c", "build/h.o"),
        .distribute("g++ -c x.cpp", "x.cpp", "x.o"),
        .distribute("g++ -c x.cc -O2 -g", "x.cc", "x.o"),
        .distribute("c++ -c x.cxx", "x.cxx", "x.o"),
        .distribute("g++ -c x.C", "x.C", "x.o"),
        .distribute("g++ -c x.c++", "x.c++", "x.o"),
        .distribute("gcc -c x.i", "x.i", "x.o"),
        .distribute("g++ -c x.ii", "x.ii", "x.o"),
        .distribute("gcc -c x.m", "x.m", "x.o"),
        .distribute("gcc -c x.mm", "x.mm", "x.o"),
        .distribute("gcc -Wall -Wextra -Werror -c x.c", "x.c", "x.o"),
        .distribute("gcc -DFOO=1 -I include -Iother -c x.c", "x.c", "x.o"),
        .distribute("gcc -include config.h -c x.c", "x.c", "x.o"),
        .distribute("gcc -isystem /opt/inc -c x.c", "x.c", "x.o"),
        .distribute("gcc -MD -c x.c", "x.c", "x.o"),
        .distribute("gcc -MMD -MF deps/x.d -c x.c -o x.o", "x.c", "x.o"),
        .distribute("gcc -MD -MT tgt -MP -c x.c", "x.c", "x.o"),
        .distribute("gcc -x c -c x.weird", "x.weird", "x.o"),
        .distribute("gcc -x c++ -c header.h", "header.h", "header.o"),
        .distribute("gcc -xc -c x.txt", "x.txt", "x.o"),
        .distribute("gcc -march=x86-64-v2 -c x.c", "x.c", "x.o"),
        .distribute("gcc -fPIC -fvisibility=hidden -c x.c", "x.c", "x.o"),
        .distribute("gcc -std=c11 -pedantic -c x.c", "x.c", "x.o"),
        .distribute("gcc -Wa,--noexecstack -c x.c", "x.c", "x.o"),
        .distribute("gcc -pipe -c x.c", "x.c", "x.o"),
        .distribute("gcc -flto -c x.c", "x.c", "x.o"),
        .distribute("gcc -g3 -ggdb -c x.c", "x.c", "x.o"),
        .distribute("gcc -c x.c -o x", "x.c", "x"),
        .distribute("gcc --param max-inline-insns-single=10 -c x.c", "x.c", "x.o"),
        .distribute("/usr/bin/gcc -c x.c", "x.c", "x.o"),
        .distribute("x86_64-linux-gnu-gcc-12 -c x.c", "x.c", "x.o"),
        .distribute("clang -c x.c -o x.o", "x.c", "x.o"),
        .local("gcc x.c"),
        .local("gcc -o prog x.c"),
        .local("gcc -E x.c"),
        .local("gcc -S x.c"),
        .local("gcc -c -E x.c"),
        .local("gcc -M x.c"),
        .local("gcc -MM x.c"),
        .local("gcc -c x.c y.c"),
        .local("gcc -c"),
        .local("gcc -c x.s"),
        .local("gcc -c x.S"),
        .local("gcc -c x.o"),
        .local("gcc -c x.h"),
        .local("gcc -c x.c -o -"),
        .local("gcc -c x.c -o a.o -o b.o"),
        .local("gcc -c -"),
        .local("gcc -x assembler -c x.s"),
        .local("gcc -x c-header -c x.h"),
        .local("gcc @args.rsp"),
        .local("gcc -c x.c @more"),
        .local("gcc -march=native -c x.c"),
        .local("gcc -mtune=native -c x.c"),
        .local("gcc -mcpu=native -c x.c"),
        .local("gcc --coverage -c x.c"),
        .local("gcc -fprofile-arcs -c x.c"),
        .local("gcc -ftest-coverage -c x.c"),
        .local("gcc -fprofile-generate -c x.c"),
        .local("gcc -fprofile-use=dir -c x.c"),
        .local("gcc -save-temps -c x.c"),
        .local("gcc -save-temps=obj -c x.c"),
        .local("gcc -fdump-tree-all -c x.c"),
        .local("gcc -fsyntax-only x.c"),
        .local("gcc -gsplit-dwarf -c x.c"),
        .local("gcc -fstack-usage -c x.c"),
        .local("gcc -Wa,-adhln=x.lst -c x.c"),
        .local("gcc -Wa,--MD,x.d -c x.c"),
        .local("gcc -B/opt/bin -c x.c"),
        .local("gcc -specs=my.specs -c x.c"),
        .local("gcc -fplugin=./p.so -c x.c"),
        .local("gcc -Xclang -load -c x.c"),
        .local("gcc -wrapper gdb -c x.c"),
        .local("gcc --version"),
        .local("gcc -v -c x.c"),
        .local("gcc -dumpversion"),
        .local("gcc -print-search-dirs"),
        .local("gcc -fdirectives-only -c x.c"),
        .local("gcc -c x.c -I"),
        .local("gcc -c x.c -o"),
        .local("gcc"),
        .local("gcc -g3 -c x.c"),
        .local("gcc -ggdb3 -O2 -c x.c"),
        .distribute("gcc -g3 -g -c x.c", "x.c", "x.o"),
        .distribute("gcc -g -g0 -c x.c", "x.c", "x.o"),
    ]

    @Test(arguments: cases)
    func scan(_ row: ScanCase) {
        let result = ArgScanner.scan(row.command.split(separator: " ").map(String.init))
        switch (result, row.expected) {
        case (.distribute(let plan), let expected?):
            #expect(plan.source == expected.source)
            #expect(plan.output == expected.output)
        case (.local, nil):
            break
        default:
            Issue.record("\(row.command): got \(result)")
        }
    }

    static func plan(_ command: String) throws -> CompilePlan {
        guard case .distribute(let plan) = ArgScanner.scan(command.split(separator: " ").map(String.init)) else {
            throw ScanFailed()
        }
        return plan
    }
    struct ScanFailed: Error {}

    @Test func preprocessorOptionsStayLocal() throws {
        let plan = try Self.plan(
            "gcc -DA=1 -I inc -Iinc2 -include cfg.h -isystem sys -MD -MF x.d -MT t -O2 -g -c x.c -o out/x.o")
        #expect(plan.remoteArguments == ["gcc", "-fdirectives-only", "-O2", "-g", "-c", "x.c", "-o", "out/x.o"])
        #expect(
            plan.preprocessArguments == [
                "gcc", "-DA=1", "-I", "inc", "-Iinc2", "-include", "cfg.h", "-isystem", "sys", "-MD", "-MF", "x.d",
                "-MT", "t", "-O2", "-g", "x.c", "-E", "-fdirectives-only",
            ])
        #expect(plan.withPlainText.remoteArguments == ["gcc", "-O2", "-g", "-c", "x.c", "-o", "out/x.o"])
        #expect(plan.withPlainText.preprocessArguments.last == "-E")
    }

    /// gcc names the .d file and its target after -o when compiling; with -E it must be told (gcc's cpp spec).
    @Test func dependencyFileAndTargetFollowTheOutput() throws {
        let plan = try Self.plan("gcc -MMD -c src/x.c -o build/x.o")
        #expect(plan.withPlainText.preprocessArguments.suffix(5) == ["-MF", "build/x.d", "-MQ", "build/x.o", "-E"])
        let noOutput = try Self.plan("gcc -MD -c src/x.c").withPlainText
        #expect(noOutput.preprocessArguments.suffix(5) == ["-MF", "x.d", "-MQ", "x.o", "-E"])
        let explicit = try Self.plan("clang -MD -MF my.d -MQ tgt -c x.c")
        #expect(explicit.preprocessArguments == ["clang", "-MD", "-MF", "my.d", "-MQ", "tgt", "x.c", "-E"])
    }

    @Test func outputIsAlwaysExplicitInTheRemoteCommand() throws {
        #expect(try Self.plan("clang -c dir/x.c").remoteArguments == ["clang", "-c", "dir/x.c", "-o", "x.o"])
    }

    @Test func languageAndPreprocessedInputs() throws {
        #expect(try Self.plan("g++ -c a.cpp").language == .cxx)
        #expect(try Self.plan("gcc -x c++ -c a.c").language == .cxx)
        #expect(try Self.plan("gcc -c a.i").sourceIsPreprocessed)
        #expect(try Self.plan("gcc -x cpp-output -c a.txt").sourceIsPreprocessed)
        #expect(try !Self.plan("gcc -c a.c").sourceIsPreprocessed)
    }

    /// gcc compiles get directives-only text (and keep it in both command lines), except where the option
    /// would show in the object beyond the DWARF producer, or the text is already preprocessed; clang never.
    @Test func directivesOnlyForGccCompiles() throws {
        for command in [
            "gcc -g -O2 -c x.c", "x86_64-linux-gnu-g++-12 -gdwarf-4 -c x.cc", "gcc -O2 -c x.c",
            "cc -flto -fno-lto -c x.c",
        ] {
            let plan = try Self.plan(command)
            #expect(plan.directivesOnly, "\(command)")
            #expect(plan.preprocessArguments.contains(ArgScanner.directivesOnlyOption))
            #expect(plan.remoteArguments.contains(ArgScanner.directivesOnlyOption))
        }
        for command in [
            "clang -g -c x.c", "gcc -g -c x.i", "gcc -flto -c x.c", "gcc -flto=auto -c x.c",
            "gcc -frecord-gcc-switches -c x.c",
            "gcc -traditional-cpp -c x.c", "gcc -C -c x.c", "gcc -dD -c x.c",
        ] {
            let plan = try Self.plan(command)
            #expect(!plan.directivesOnly, "\(command)")
            #expect(!plan.remoteArguments.contains(ArgScanner.directivesOnlyOption))
        }
        #expect(try Self.plan("gcc -g -O2 -c x.c").recordsDebugInfo)
        #expect(try !Self.plan("gcc -g -g0 -c x.c").recordsDebugInfo)
    }
}
