// End to end through a real sshd: sshcc compiles remotely and the build sees exactly what a local compile
// gives: the same object bytes, the same messages, the same status, the same dependency file.

import Foundation
import TestSupport
import Testing

@Suite struct RemoteCompileTests {
    static let matrix: [(compiler: String, source: String, flags: [String])] = [
        ("gcc", "prog.c", []),
        ("gcc", "prog.c", ["-O2"]),
        ("gcc", "prog.c", ["-O2", "-Wall", "-Wextra"]),
        ("gcc", "prog.c", ["-std=c99", "-fPIC", "-DNAME=\"x\""]),
        ("gcc", "plain.c", ["-g"]),
        ("gcc", "plain.c", ["-g", "-O2", "-Wall", "-Wextra"]),
        ("g++", "prog.cpp", []),
        ("g++", "prog.cpp", ["-O2", "-Wall"]),
        ("g++", "plain.cpp", ["-std=c++17", "-O1", "-Wunused"]),
    ]

    @Test(arguments: matrix)
    func objectIsByteIdenticalToALocalCompile(compiler: String, source: String, flags: [String]) throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let object = source.replacingOccurrences(of: ".", with: "_") + ".o"
        let common = flags + ["-Iinclude", "-c", "src/\(source)"]

        let local = try Fixtures.local(
            [compiler] + common + ["-o", "out-local/\(object)"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(
            [compiler] + common + ["-o", "out-remote/\(object)"], in: project.path, environment: environment)

        #expect(remote.status == local.status, "\(remote.stderrText)")
        #expect(remote.stderrText == local.stderrText)
        #expect(remote.stdoutText == local.stdoutText)
        let identical = try project.read("out-remote/\(object)") == project.read("out-local/\(object)")
        let why = identical ? "" : try debugInfoDifference(project, "out-local/\(object)", "out-remote/\(object)")
        #expect(identical, "objects differ:\n\(why)")
        #expect(server.jobsServed == 1, "the job must have been compiled by sshccd")
        attachLogsOnFailure(server, remote.status == 0 && server.jobsServed == 1)
    }

    /// `-g` objects record lines and columns (DWARF). Plain preprocessed text moves columns (macro expansions,
    /// collapsed blanks); the wrapper lays the text out so that every token keeps its local place.
    @Test(arguments: [
        ("gcc", "prog.c", ["-g", "-O2"]), ("g++", "prog.cpp", ["-g", "-O2"]), ("g++", "plain.cpp", ["-g"]),
        ("gcc", "prog.c", ["-g", "-O0"]), ("gcc", "prog.c", ["-ggdb", "-O1", "-gdwarf-4"]),
    ])
    func debugObjectsAreByteIdentical(compiler: String, source: String, flags: [String]) throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_VERBOSE": "1"])
        let common = flags + ["-Iinclude", "-c", "src/\(source)"]
        try Fixtures.local([compiler] + common + ["-o", "out-local/x.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(
            [compiler] + common + ["-o", "out-remote/x.o"], in: project.path, environment: environment)
        #expect(remote.status == 0)
        #expect(!remote.stderrText.contains("plain preprocessed text"), "\(remote.stderrText)")
        for dump in ["--debug-dump=info", "--debug-dump=rawline"] {
            let show = { (path: String) throws -> String in
                try Command.run("readelf", [dump, "-W", path], directory: project.path).stdoutText
            }
            #expect(try show("out-local/x.o") == show("out-remote/x.o"), "readelf \(dump) differs")
        }
        #expect(try project.read("out-remote/x.o") == project.read("out-local/x.o"))
        #expect(server.jobsServed == 1)
    }

    /// A system macro in user code (SIG_IGN is an old-style cast in <csignal>): locally its tokens are
    /// system tokens and -Wold-style-cast stays quiet. The layout drops gcc's system-header switches for exact
    /// line tables, so the server warns; the wrapper shows the local rendering (no warning). Under -Werror
    /// the switches are kept, so the compile succeeds as it does locally.
    @Test func systemMacroWarningsStayQuietAndWerrorStillPasses() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write(
            "src/signal.cpp", "#include <csignal>\nint ignore() { return std::signal(SIGPIPE, SIG_IGN) == SIG_ERR; }\n")
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        for werror in [[], ["-Werror"]] {
            let arguments = ["g++", "-g", "-O2", "-Wold-style-cast"] + werror + ["-c", "src/signal.cpp", "-o"]
            let local = try Fixtures.local(arguments + ["out-local/s.o"], in: project.path, environment: environment)
            let remote = try Fixtures.sshcc(arguments + ["out-remote/s.o"], in: project.path, environment: environment)
            #expect(local.status == 0 && local.stderrText.isEmpty)
            #expect(remote.status == 0, "\(werror): \(remote.stderrText)")
            #expect(remote.stderrText.isEmpty, "\(werror): \(remote.stderrText)")
            if werror.isEmpty { #expect(try project.read("out-remote/s.o") == project.read("out-local/s.o")) }
        }
        #expect(server.jobsServed == 2)
    }

    /// What directives-only text cannot carry: a pragma the preprocessor carries out (push_macro/pop_macro)
    /// goes as plain text when that is exact (no -g), and a -g compile whose macros depend on the machine
    /// (`__BASE_FILE__`) compiles locally; both objects are the local ones.
    @Test func textsDirectivesOnlyCannotCarryGoAnotherExactWay() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write(
            "src/push.c",
            "#define V 3\n#pragma push_macro(\"V\")\n#undef V\n#define V 7\nint seven = V;\n"
                + "#pragma pop_macro(\"V\")\nint three = V;\n")
        try project.write("src/base.c", "const char *base = __BASE_FILE__;\nint f(int x) { return x + 1; }\n")
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_VERBOSE": "1"])
        for (source, flags, remote) in [("src/push.c", ["-O2"], true), ("src/base.c", ["-g", "-O2"], false)] {
            let before = server.jobsServed
            let common = flags + ["-c", source]
            try Fixtures.local(["gcc"] + common + ["-o", "out-local/x.o"], in: project.path, environment: environment)
            let run = try Fixtures.sshcc(
                ["gcc"] + common + ["-o", "out-remote/x.o"], in: project.path, environment: environment)
            #expect(run.status == 0, "\(source): \(run.stderrText)")
            #expect(try project.read("out-remote/x.o") == project.read("out-local/x.o"), "\(source)")
            #expect(server.jobsServed == before + (remote ? 1 : 0), "\(source): \(run.stderrText)")
            #expect(
                run.stderrText.contains(remote ? "sending plain -E text" : "compiling locally"), "\(run.stderrText)")
        }
    }

    @Test func diagnosticsOnALineWithAMacroMatchLocalOnes() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let args = ["gcc", "-Wall", "-c", "src/macro_error.c"]
        let local = try Fixtures.local(args + ["-o", "out-local/m.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(args + ["-o", "out-remote/m.o"], in: project.path, environment: environment)
        #expect(local.status == 1)
        #expect(remote.status == local.status)
        #expect(remote.stderrText == local.stderrText)
        #expect(server.jobsServed == 1)
    }

    @Test func warningsShowTheSameSourceExcerptsAsLocally() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let args = ["gcc", "-Wall", "-Wextra", "-Iinclude", "-c", "src/prog.c"]
        let local = try Fixtures.local(args + ["-o", "out-local/p.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(args + ["-o", "out-remote/p.o"], in: project.path, environment: environment)
        #expect(local.stderrText.contains("|"), "the reference has excerpt lines")
        #expect(remote.stderrText == local.stderrText)
        #expect(server.jobsServed == 1)
    }

    @Test func compileErrorGivesTheSameDiagnosticsAndStatus() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let args = ["gcc", "-Iinclude", "-c", "src/broken.c"]
        let local = try Fixtures.local(args + ["-o", "out-local/b.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(args + ["-o", "out-remote/b.o"], in: project.path, environment: environment)
        #expect(local.status == 1)
        #expect(remote.status == local.status)
        #expect(remote.stderrText == local.stderrText)
        #expect(!project.exists("out-remote/b.o"))
        #expect(server.jobsServed == 1, "a compile error is reported, not retried locally")
    }

    /// With SSHCC_DIAGNOSTICS=remote the server's text comes through untouched: same messages, no excerpts.
    @Test func remoteDiagnosticsAsTheyCame() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0", "SSHCC_DIAGNOSTICS": "remote"])
        let remote = try Fixtures.sshcc(
            ["gcc", "-Iinclude", "-c", "src/broken.c"], in: project.path, environment: environment)
        #expect(remote.status == 1)
        #expect(remote.stderrText.contains("src/broken.c:3:12: error: 'undefined_thing' undeclared"))
        #expect(!remote.stderrText.contains(" | "))
    }

    @Test func preprocessorErrorIsReportedLikeLocally() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write("src/missing.c", "#include \"nope.h\"\nint x;\n")
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let local = try Fixtures.local(
            ["gcc", "-c", "src/missing.c", "-o", "out-local/m.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(
            ["gcc", "-c", "src/missing.c", "-o", "out-remote/m.o"], in: project.path, environment: environment)
        #expect(remote.status == local.status)
        #expect(remote.stderrText == local.stderrText)
        #expect(server.jobsServed == 0)
    }

    /// What the preprocessor says is the build's to see as a local compile shows it: `#error` with the compile
    /// errors gcc goes on to report after it (gcc and g++, byte for byte, same status), and a `#warning` in a
    /// file that compiles (held until the preprocessor succeeded, then printed; the object is remote).
    @Test func preprocessorMessagesAreTheLocalOnes() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write("src/stop.c", "#error stop here\nint f(void) { return missing; }\n")
        try project.write("src/careful.c", "#warning careful\nint g(int x) { return x + 1; }\n")
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        for compiler in ["gcc", "g++"] {
            let local = try Fixtures.local(
                [compiler, "-c", "src/stop.c", "-o", "out-local/s.o"], in: project.path, environment: environment)
            let remote = try Fixtures.sshcc(
                [compiler, "-c", "src/stop.c", "-o", "out-remote/s.o"], in: project.path, environment: environment)
            let followed = [
                "missing’ undeclared", "missing' undeclared", "missing’ was not declared", "missing' was not declared",
            ].contains {
                local.stderrText.contains($0)
            }
            #expect(local.status != 0 && followed, "gcc reports the compile error after #error: \(local.stderrText)")
            #expect(remote.status == local.status, "\(compiler)")
            #expect(remote.stderrText == local.stderrText, "\(compiler)")
        }
        let local = try Fixtures.local(
            ["gcc", "-c", "src/careful.c", "-o", "out-local/c.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(
            ["gcc", "-c", "src/careful.c", "-o", "out-remote/c.o"], in: project.path, environment: environment)
        #expect(local.status == 0 && local.stderrText.contains("#warning careful"))
        #expect(remote.status == 0)
        #expect(remote.stderrText == local.stderrText)
        #expect(try project.read("out-remote/c.o") == project.read("out-local/c.o"))
        #expect(server.jobsServed == 1, "only the file that compiles went to the server")
    }

    @Test func dependencyFileIsTheOneALocalCompileWrites() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        try Fixtures.local(
            ["gcc", "-MMD", "-MP", "-Iinclude", "-c", "src/prog.c", "-o", "out-local/prog.o"], in: project.path,
            environment: environment)
        let remote = try Fixtures.sshcc(
            ["gcc", "-MMD", "-MP", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"], in: project.path,
            environment: environment)
        #expect(remote.status == 0, "\(remote.stderrText)")
        let localDeps = String(decoding: try project.read("out-local/prog.d"), as: UTF8.self)
        let remoteDeps = String(decoding: try project.read("out-remote/prog.d"), as: UTF8.self)
        #expect(remoteDeps == localDeps.replacingOccurrences(of: "out-local/", with: "out-remote/"))
        #expect(server.jobsServed == 1)
    }

    @Test(arguments: [
        ["gcc", "-E", "src/prog.c", "-Iinclude"],
        ["gcc", "-Iinclude", "src/prog.c", "-o", "prog"],
        ["gcc", "-Iinclude", "-c", "src/prog.c", "src/broken.c"],
        ["gcc", "-Iinclude", "-S", "src/prog.c", "-o", "prog.s"],
    ])
    func commandsThatMustRunLocallyDo(_ arguments: [String]) throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_VERBOSE": "1"])
        let result = try Fixtures.sshcc(arguments, in: project.path, environment: environment)
        let reference = try TemporaryDirectory()
        try FileManager.default.removeItem(atPath: reference.path)
        try FileManager.default.copyItem(atPath: project.path, toPath: reference.path)
        let local = try Fixtures.local(arguments, in: reference.path, environment: environment)
        #expect(result.status == local.status)
        #expect(result.stdout == local.stdout)
        #expect(result.stderrText.hasPrefix("sshcc: running locally: "))
        #expect(server.jobsServed == 0)
        #expect(server.logins == 0, "nothing may touch the network")
    }

    @Test func linkedProgramFromRemoteObjectsRuns() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        try Fixtures.sshcc(
            ["g++", "-O2", "-Iinclude", "-c", "src/prog.cpp", "-o", "out-remote/prog.o"], in: project.path,
            environment: environment)
        try Fixtures.sshcc(
            ["g++", "out-remote/prog.o", "-o", "out-remote/prog"], in: project.path, environment: environment)
        let run = try Command.run(project.path + "/out-remote/prog", [])
        #expect(run.stdoutText == "6\n")
    }
}

/// `diff` of the DWARF dumps of two objects, to say why they differ.
func debugInfoDifference(_ project: TemporaryDirectory, _ first: String, _ second: String) throws -> String {
    let dump = { (path: String) throws -> String in
        try Command.run("readelf", ["--debug-dump=info,line", "-W", path], directory: project.path).stdoutText
    }
    try dump(first).write(toFile: project.path + "/first.dump", atomically: true, encoding: .utf8)
    try dump(second).write(toFile: project.path + "/second.dump", atomically: true, encoding: .utf8)
    return String(
        try Command.run("diff", ["first.dump", "second.dump"], directory: project.path).stdoutText.prefix(3000))
}
