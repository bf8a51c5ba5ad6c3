// DriverCommands ↔ DriverCommands.swift: `gcc -###` output read back into argument lists exactly as the
// driver would pass them (quotes, escapes, spaces), and the job's paths swapped for tokens and back.

import CompileCore
import ServerPolicy
import Testing

@Suite struct DriverCommandsTests {
    /// gcc 12's own output for `gcc -### -x cpp-output -O2 -g - -S -o /tmp/j/x.s` (environment lines kept).
    static let printed = """
        Using built-in specs.
        COLLECT_GCC=gcc
        Target: x86_64-linux-gnu
        gcc version 12.2.0 (Debian 12.2.0-14+deb12u1)
        COLLECT_GCC_OPTIONS='-O2' '-g' '-S' '-o' '/tmp/j/x.s' '-mtune=generic' '-march=x86-64' '-dumpdir' '/tmp/j/'
         /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -fpreprocessed - -quiet -dumpdir /tmp/j/ -dumpbase x "-mtune=generic" "-march=x86-64" -g -O2 -o /tmp/j/x.s -fasynchronous-unwind-tables
        """

    @Test func commandLinesAreTheIndentedOnes() throws {
        let commands = try #require(DriverCommands.parse(Self.printed))
        #expect(
            commands == [
                [
                    "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-fpreprocessed", "-", "-quiet", "-dumpdir", "/tmp/j/",
                    "-dumpbase", "x", "-mtune=generic", "-march=x86-64", "-g", "-O2", "-o", "/tmp/j/x.s",
                    "-fasynchronous-unwind-tables",
                ]
            ])
    }

    @Test func quotedArgumentsKeepSpacesAndEscapes() throws {
        let line = #" as "-DNAME=a b" "say \"hi\"" "back\\slash" "\$HOME" "" plain"#
        #expect(
            DriverCommands.parse(line) == [["as", "-DNAME=a b", "say \"hi\"", "back\\slash", "$HOME", "", "plain"]])
        #expect(DriverCommands.parse(#" cc1 "unterminated"#) == nil)
        #expect(DriverCommands.parse(" as\n cc1 -quiet\nnot a command\n") == [["as"], ["cc1", "-quiet"]])
    }

    @Test func theJobsPathsBecomeTokensAndBack() throws {
        let arguments = ["gcc", "-O2", "-x", "assembler", "-", "-c", "-o", "/tmp/sshccd-7-abc/main.o"]
        let template = try #require(
            DriverCommands.template(arguments, directory: "/tmp/sshccd-7-abc", stem: "main"))
        #expect(template.last == DriverCommands.directoryToken + "/" + DriverCommands.stemToken + ".o")
        let derived = ["as", "--64", "-o", DriverCommands.directoryToken + "/" + DriverCommands.stemToken + ".o", "-"]
        #expect(
            DriverCommands.instantiate(derived, directory: "/tmp/sshccd-9-xyz", stem: "util")
                == ["as", "--64", "-o", "/tmp/sshccd-9-xyz/util.o", "-"])
        // -dumpdir and -dumpbase get the directory and the stem on their own.
        #expect(
            DriverCommands.instantiate(
                ["-dumpdir", DriverCommands.directoryToken + "/", "-dumpbase", DriverCommands.stemToken],
                directory: "/d", stem: "s") == ["-dumpdir", "/d/", "-dumpbase", "s"])
    }

    /// A command line that already holds a token is never templated: its text must not turn into a path.
    @Test func argumentsHoldingATokenAreNotTemplated() {
        for hostile in ["-f" + DriverCommands.stemToken, "-I" + DriverCommands.directoryToken] {
            #expect(DriverCommands.template(["gcc", hostile, "-c"], directory: "/tmp/j", stem: "x") == nil)
        }
    }
}
