// PreprocessorCommand ↔ PreprocessorCommand.swift: a job's preprocessor command line with its own parts as
// stand-ins, the driver's `-###` answer read, and the parts put back.

import CompileCore
import Testing

@Suite struct PreprocessorCommandTests {
    static let printed = """
        Using built-in specs.
        COLLECT_GCC=/usr/bin/gcc
        OFFLOAD_TARGET_NAMES=nvptx-none:amdgcn-amdhsa
        Target: x86_64-linux-gnu
        Configured with: ../src/configure -v
        Thread model: posix
        Supported LTO compression algorithms: zlib zstd
        gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)\u{20}
        COLLECT_GCC_OPTIONS='-E' '-o' '/sshcc-stand-in-dir/sshcc-stand-in-out'
         /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -MD /sshcc-stand-in-dir/sshcc-stand-in-out.d -MF x.d \
        -D sshcc_stand_in_0 -D sshcc_stand_in_1 -U sshcc_stand_in_2 sshcc-stand-in-source.c \
        -o /sshcc-stand-in-dir/sshcc-stand-in-out "-mtune=generic" -dumpdir /sshcc-stand-in-dir/ \
        -dumpbase sshcc-stand-in-out.c -dumpbase-ext .c
        COMPILER_PATH=/usr/lib/gcc/x86_64-linux-gnu/12/
        """

    @Test func theSourceMacrosAndDependencyFileBecomeStandIns() throws {
        let template = try #require(
            PreprocessorCommand.template(
                ["/usr/bin/gcc", "-DA=1", "-D", "B=\"x y\"", "-UC", "-O2", "-MD", "-MF", "x.d", "src/dir/a.c", "-E"],
                source: "src/dir/a.c"))
        #expect(
            template.arguments == [
                "/usr/bin/gcc", "-Dsshcc_stand_in_0", "-D", "sshcc_stand_in_1", "-Usshcc_stand_in_2",
                "-O2", "-MD", "-MF", "sshcc_stand_in_3", "sshcc-stand-in-source.c", "-E", "-o",
                "/sshcc-stand-in-dir/sshcc-stand-in-out",
            ])
        #expect(
            template.bindings == [
                "sshcc_stand_in_0": "A=1", "sshcc_stand_in_1": "B=\"x y\"", "sshcc_stand_in_2": "C",
                "sshcc_stand_in_3": "x.d", "sshcc-stand-in-source.c": "src/dir/a.c",
            ])
        // Two files of one flag set share a template.
        let other = try #require(
            PreprocessorCommand.template(
                ["/usr/bin/gcc", "-DA=2", "-D", "B", "-UD", "-O2", "-MD", "-MF", "b.d", "b.c", "-E"], source: "b.c"))
        #expect(other.arguments == template.arguments)
    }

    @Test func aCommandLineHoldingAStandInIsNotTemplated() {
        #expect(PreprocessorCommand.template(["gcc", "-Dsshcc_stand_in_0", "a.c", "-E"], source: "a.c") == nil)
        #expect(
            PreprocessorCommand.template(["gcc", "sshcc-stand-in-source.c", "-E"], source: "sshcc-stand-in-source.c")
                == nil)
        #expect(PreprocessorCommand.template(["gcc", "-E"], source: "a.c") == nil, "no source")
    }

    @Test func theDriversCommandIsReadAndThePartsPutBack() throws {
        let command = try #require(PreprocessorCommand.derive(Self.printed))
        #expect(command.first == "/usr/lib/gcc/x86_64-linux-gnu/12/cc1")
        let bindings = [
            "sshcc_stand_in_0": "A=1", "sshcc_stand_in_1": "B=\"x y\"", "sshcc_stand_in_2": "C",
            "sshcc-stand-in-source.c": "src/a.c",
        ]
        let argv = try #require(PreprocessorCommand.instantiate(command, bindings: bindings, output: "/proc/42/fd/4"))
        #expect(
            argv == [
                "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-E", "-quiet", "-MD", "/proc/42/fd/4.d", "-MF", "x.d", "-D",
                "A=1", "-D", "B=\"x y\"", "-U", "C", "src/a.c", "-o", "/proc/42/fd/4", "-mtune=generic", "-dumpdir",
                "/proc/42/fd/", "-dumpbase", "4.c", "-dumpbase-ext", ".c",
            ])
    }

    /// Many macros: `…_1` is not put back inside `…_10`.
    @Test func standInsThatPrefixOthersArePutBackWhole() throws {
        let arguments = ["gcc"] + (0..<12).map { "-DM\($0)" } + ["a.c", "-E"]
        let template = try #require(PreprocessorCommand.template(arguments, source: "a.c"))
        let command = ["/usr/lib/cc1", "-E"] + template.arguments.dropFirst().filter { $0 != "-E" }
        let argv = try #require(PreprocessorCommand.instantiate(command, bindings: template.bindings, output: "/p/1"))
        #expect(argv == ["/usr/lib/cc1", "-E"] + arguments.dropFirst().filter { $0 != "-E" } + ["-o", "/p/1"])
        let joined = ["/usr/lib/cc1", "-E", "-Dsshcc_stand_in_1,sshcc_stand_in_10"]
        #expect(
            PreprocessorCommand.instantiate(joined, bindings: template.bindings, output: "/p/1")
                == ["/usr/lib/cc1", "-E", "-DM1,M10"])
    }

    @Test(arguments: [
        // The driver warns: without it, the warning would be lost.
        "gcc: warning: x.o: linker input file unused because linking not done\n /usr/lib/cc1 -E a.c\n",
        // Two programs, a relative program, a program that is not the preprocessor, no -E.
        " /usr/lib/cc1 -E a.c\n /usr/bin/as a.s\n", " cc1 -E a.c\n", " /usr/bin/as -E\n", " /usr/lib/cc1 a.c\n",
        // Nothing, an unclosed quote, a line the driver does not always print.
        "", " /usr/lib/cc1 -E \"a.c\n", "Reading specs from /x\n /usr/lib/cc1 -E a.c\n",
    ])
    func anythingButOnePreprocessorKeepsTheDriver(_ printed: String) {
        #expect(PreprocessorCommand.derive(printed) == nil)
    }

    @Test func aStandInTheDriverChangedKeepsTheDriver() {
        let command = ["/usr/lib/cc1", "-E", "-fprofile-dir=sshcc-stand-in-mangled"]
        #expect(PreprocessorCommand.instantiate(command, bindings: [:], output: "/proc/1/fd/3") == nil)
    }
}
