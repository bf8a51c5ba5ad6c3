// ServerArgPolicy ↔ ServerArgPolicy.swift and CompilerAllowList ↔ CompilerAllowList.swift: what a server
// runs for a request, and what it refuses.

import CompileCore
import ServerPolicy
import Testing

@Suite struct ServerArgPolicyTests {
    static func plan(_ command: String) -> ServerPlan {
        ServerArgPolicy.plan(
            command.split(separator: " ").map(String.init), allowList: CompilerAllowList(), jobDirectory: "/tmp/job")
    }

    @Test func stockDistccRequestIsRewrittenIntoTheJobDirectory() {
        #expect(
            Self.plan("x86_64-linux-gnu-gcc -O2 -c hello.c -o /home/u/build/hello.o")
                == .compile(
                    ServerCompile(
                        compilerName: "x86_64-linux-gnu-gcc",
                        arguments: ["-x", "cpp-output", "-O2", "-", "-S", "-o", "/tmp/job/hello.s"],
                        assembleArguments: [
                            "-O2", "-x", "assembler", "-", "-c", "-o", "/tmp/job/hello.o",
                        ],
                        inputPath: "/tmp/job/hello.i", assemblyPath: "/tmp/job/hello.s",
                        outputPath: "/tmp/job/hello.o")))
    }

    @Test func cxxAndExplicitLanguage() {
        guard case .compile(let cxx) = Self.plan("g++ -c a.cpp -o a.o") else { Issue.record("refused"); return }
        #expect(cxx.arguments.prefix(2) == ["-x", "c++-cpp-output"])
        #expect(cxx.inputPath == "/tmp/job/a.ii")
        guard case .compile(let forced) = Self.plan("gcc -x c++ -c a.c -o a.o") else { Issue.record("refused"); return }
        #expect(forced.arguments.prefix(2) == ["-x", "c++-cpp-output"])
        #expect(!forced.arguments.dropFirst(2).contains("-x"))
    }

    @Test func absoluteCompilerPathIsReducedToItsName() {
        guard case .compile(let plan) = Self.plan("/tmp/evil/gcc -c a.c") else { Issue.record("refused"); return }
        #expect(plan.compilerName == "gcc")
    }

    @Test func hostileFileNamesStayInTheJobDirectory() {
        guard case .compile(let plan) = Self.plan("gcc -c ../../etc/passwd.c -o /etc/shadow") else {
            Issue.record("refused"); return
        }
        #expect(plan.inputPath == "/tmp/job/passwd.i")
        #expect(plan.outputPath == "/tmp/job/passwd.o")
        guard case .compile(let dotted) = Self.plan("gcc -c .hidden.c") else { Issue.record("refused"); return }
        #expect(dotted.inputPath == "/tmp/job/source.i")
    }

    @Test(arguments: [
        "gcc -fplugin=/tmp/p.so -c a.c", "gcc -B/tmp/x -c a.c", "gcc -B /tmp/x -c a.c", "gcc -specs=/tmp/s -c a.c",
        "gcc --specs=/tmp/s -c a.c", "gcc @/etc/passwd -c a.c", "gcc -wrapper /bin/sh -c a.c",
        "gcc -Xclang -load -c a.c",
        "gcc -fpass-plugin=x.so -c a.c", "gcc -save-temps -c a.c", "gcc -fdump-tree-all -c a.c",
        "gcc -iplugindir=/tmp -c a.c",
        "gcc -include /etc/passwd -c a.c", "gcc -MD -c a.c", "gcc -MF /tmp/x.d -c a.c", "gcc -E a.c", "gcc -S a.c",
        "gcc a.c", "gcc -c a.c b.c", "gcc -c", "gcc -c a.s", "gcc -x assembler -c a.c", "gcc -c a.c -o a.o -o b.o",
        "gcc -Wa,-adhln=/tmp/l -c a.c", "gcc -fprofile-generate=/tmp -c a.c", "gcc -aux-info /tmp/x -c a.c",
        "gcc -dumpdir /tmp/ -c a.c", "bash -c a.c", "/bin/sh -c a.c", "gcc-evil -c a.c", "python3 -c a.c",
        "gcc -Wp,-MD,/tmp/x -c a.c", "gcc -c a.c -o",
    ])
    func refused(_ command: String) {
        guard case .refuse(let reason) = Self.plan(command) else {
            Issue.record("\(command) was accepted")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test func preprocessorOptionsAreDroppedNotPassed() {
        guard case .compile(let plan) = Self.plan("gcc -DX=1 -I/inc -isystem /sys -c a.c") else {
            Issue.record("refused"); return
        }
        #expect(plan.arguments == ["-x", "cpp-output", "-", "-S", "-o", "/tmp/job/a.s"])
        #expect(plan.readsStandardInput)
    }

    @Test(arguments: [
        ("gcc", "gcc"), ("g++", "g++"), ("cc", "cc"), ("c++", "c++"), ("clang", "clang"), ("clang++", "clang++"),
        ("gcc-12", "gcc-12"), ("clang-16", "clang-16"), ("x86_64-linux-gnu-gcc", "x86_64-linux-gnu-gcc"),
        ("x86_64-linux-gnu-g++-12", "x86_64-linux-gnu-g++-12"), ("aarch64-linux-gnu-gcc", "aarch64-linux-gnu-gcc"),
        ("/usr/bin/gcc", "gcc"), ("/tmp/x/gcc", "gcc"),
    ])
    func allowedCompilers(_ compiler: String, _ name: String) {
        #expect(CompilerAllowList().allowedName(for: compiler) == name)
    }

    @Test(arguments: [
        "sh", "bash", "gcc-evil", "-gcc", "evil-gcc", "gcc;rm", "gcc x", ".gcc", "", "ld", "as", "cc1", "gcc-",
        "a-b-c-d-e-gcc",
    ])
    func refusedCompilers(_ compiler: String) {
        #expect(CompilerAllowList().allowedName(for: compiler) == nil)
    }
}
