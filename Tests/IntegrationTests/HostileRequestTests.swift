// "Nothing but compiling": sshccd driven directly with crafted requests. Each refused argument gets
// a clear refusal and runs nothing (an instrument on PATH would record any compiler start); code that would
// leave a marker file (a plugin, a wrapper, an assembler under -B) never runs, though the same argument does
// run it in a local gcc; `.incbin` hidden from a look at the C text is caught in the assembly; an absolute
// `-o` is never written to.

import DistccWire
import Foundation
import TestSupport
import Testing

@Suite struct HostileRequestTests {
    static let source = "int value(int x) { return x * 3; }\n"

    /// One hostile command line per rule of the issue; each must be refused before anything runs.
    @Test(arguments: [
        ["gcc", "-fplugin=/tmp/p.so", "-c", "a.c"], ["gcc", "-iplugindir=/tmp", "-fplugin=p", "-c", "a.c"],
        ["gcc", "-wrapper", "/bin/sh,-c,id", "-c", "a.c"], ["gcc", "-B/tmp/", "-c", "a.c"],
        ["gcc", "-specs=/tmp/s", "-c", "a.c"], ["gcc", "--specs=/tmp/s", "-c", "a.c"],
        ["gcc", "@/etc/passwd", "-c", "a.c"], ["clang", "-Xclang", "-load", "-Xclang", "/tmp/p.so", "-c", "a.c"],
        ["clang", "-fpass-plugin=/tmp/p.so", "-c", "a.c"], ["gcc", "-save-temps", "-c", "a.c"],
        ["gcc", "-fdump-tree-all", "-c", "a.c"], ["gcc", "-aux-info", "/tmp/aux", "-c", "a.c"],
        ["gcc", "-MF", "/tmp/d", "-c", "a.c"], ["gcc", "-MD", "-c", "a.c"], ["gcc", "-x", "assembler", "-c", "a.c"],
        ["gcc", "-x", "c-header", "-c", "a.c"], ["gcc", "-fprofile-use=/etc", "-c", "a.c"],
        ["gcc", "-Wa,-adhln=/tmp/listing", "-c", "a.c"], ["gcc", "-fmodule-mapper=|touch /tmp/x", "-c", "a.c"],
        ["gcc", "-include", "/etc/passwd", "-c", "a.c"], ["gcc", "-fsanitize-ignorelist=/etc/passwd", "-c", "a.c"],
        ["bash", "-c", "a.c"],
    ])
    func refusedArgumentRunsNothing(_ argv: [String]) throws {
        let harness = try ServerHarness("sshccd-hostile")
        try harness.instrument("gcc")
        try harness.instrument("clang", "exec /usr/bin/false")
        let request = try harness.request("a.c", Self.source, argv)
        let (result, replies) = try harness.serve([request])
        #expect(result.status == 0)
        #expect(replies.first?.exitCode == 108)
        let message = String(decoding: replies.first?.stderr ?? [], as: UTF8.self)
        #expect(message.hasPrefix("sshccd: "))
        #expect(message.contains("not allowed") || message.contains("not compiled here"), "\(message)")
        #expect(harness.instrumentRuns.isEmpty, "a compiler ran: \(harness.instrumentRuns)")
        #expect(harness.leftovers.isEmpty)
        #expect(harness.log.contains("refused"))
    }

    enum Marker: String, CaseIterable { case plugin, wrapper, assembler }

    /// Code that would leave a marker file never runs on the server, while a local gcc given the same
    /// argument does run it (so the marker is real).
    @Test(arguments: Marker.allCases)
    func codeThatWouldLeaveAMarkerNeverRuns(_ kind: Marker) throws {
        let harness = try ServerHarness("sshccd-marker")
        let dir = harness.directory.path
        let marker = dir + "/marker-\(kind.rawValue)"
        let argument: [String]
        switch kind {
        case .plugin:
            try harness.directory.write(
                "marker.c",
                "#include <stdio.h>\n__attribute__((constructor)) static void ran(void) "
                    + "{ FILE *f = fopen(\"\(marker)\", \"w\"); if (f) fclose(f); }\n")
            try Command.check("gcc", ["-shared", "-fPIC", "marker.c", "-o", "marker.so"], directory: dir)
            argument = ["-fplugin=\(dir)/marker.so"]
        case .wrapper:
            let script = try harness.directory.write("wrap.sh", "#!/bin/sh\ntouch \(marker)\nexec \"$@\"\n")
            chmod(script, 0o755)
            argument = ["-wrapper", script]
        case .assembler:
            let script = try harness.directory.write(
                "tools/as", "#!/bin/sh\ntouch \(marker)\nexec /usr/bin/as \"$@\"\n")
            chmod(script, 0o755)
            argument = ["-B\(dir)/tools/"]
        }
        try harness.directory.write("local.c", Self.source)
        // A script just written can be "text file busy" for a moment while parallel tests spawn: retry.
        for _ in 0..<3 where !FileManager.default.fileExists(atPath: marker) {
            _ = try Command.run("gcc", argument + ["-c", "local.c", "-o", "local.o"], directory: dir)
        }
        #expect(FileManager.default.fileExists(atPath: marker), "the local control did not run the code")
        try FileManager.default.removeItem(atPath: marker)

        let request = try harness.request("a.c", Self.source, ["gcc"] + argument + ["-c", "a.c"])
        let (_, replies) = try harness.serve([request])
        #expect(replies.first?.exitCode == 108)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(harness.leftovers.isEmpty)
    }

    /// Ways to hide `.incbin`/`.include` from the C text; each reads the secret into a local object (checked),
    /// each is refused by the server, and the reply carries nothing of the secret.
    @Test(arguments: [
        #"asm(".section .rodata\n.inc\x62in \"SECRET\"\n.text");"#,
        #"asm(".section .rodata\n.inc" "bin \"SECRET\"\n.text");"#,
        #"asm(".section .rodata\n.INCBIN \"SECRET\"\n.text");"#,
        #"asm(".section .rodata\n.irp d,incbin\n.\\d \"SECRET\"\n.endr\n.text");"#,
        #"asm(".section .rodata\n.macro m n\n.\\n \"SECRET\"\n.endm\nm incbin\n.text");"#,
    ])
    func hiddenIncbinIsRefused(_ statement: String) throws {
        let harness = try ServerHarness("sshccd-incbin")
        let secret = try harness.directory.write("secret.txt", "TOP-SECRET-\(UUID().uuidString)\n")
        let text = statement.replacingOccurrences(of: "SECRET", with: secret) + "\nint x;\n"
        try harness.directory.write("local.c", text)
        try Command.check("gcc", ["-c", "local.c", "-o", "local.o"], directory: harness.directory.path)
        let local = try harness.directory.read("local.o")
        #expect(local.range(of: Data("TOP-SECRET".utf8)) != nil, "the attack does not work locally")

        try harness.instrument("gcc")
        let request = try harness.request("h.c", text, ["gcc", "-c", "h.c"])
        let (_, replies) = try harness.serve([request])
        #expect(replies.first?.exitCode == 108)
        let reply = replies.first.map { $0.object + $0.stderr + $0.stdout } ?? []
        #expect(Data(reply).range(of: Data("TOP-SECRET".utf8)) == nil)
        let message = String(decoding: replies.first?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("assembly"))
        #expect(harness.compileRuns.count == 1, "only the compile to assembly ran: \(harness.instrumentRuns)")
        #expect(harness.leftovers.isEmpty)
    }

    /// clang preprocesses "preprocessed" input again: an `#include` in the text would show a server file in its
    /// messages (checked locally), and gcc still obeys `#pragma GCC dependency`. Both are refused; nothing of
    /// the file comes back.
    @Test(arguments: [
        ("clang", "#include \"SECRET\"\nint x;\n"), ("clang", "#define D \"SECRET\"\n#include D\nint x;\n"),
        ("gcc", "#pragma GCC dependency \"SECRET\"\nint x;\n"),
    ])
    func directivesThatReadServerFilesAreRefused(_ compiler: String, _ template: String) throws {
        let harness = try ServerHarness("sshccd-directive")
        let secret = try harness.directory.write("secret.txt", "TOP-SECRET-\(UUID().uuidString)\n")
        let text = template.replacingOccurrences(of: "SECRET", with: secret)
        try harness.directory.write("local.i", text)
        if compiler == "clang" {
            let local = try Command.run(
                "clang", ["-x", "cpp-output", "-c", "local.i", "-o", "local.o"], directory: harness.directory.path)
            #expect(local.stderrText.contains("TOP-SECRET"), "the attack does not work locally")
        }
        try harness.instrument(compiler)
        let request = Request(arguments: [compiler, "-c", "d.c"], source: Array(text.utf8))
        let (_, replies) = try harness.serve([request])
        #expect(replies.first?.exitCode == 108)
        let reply = replies.first.map { $0.object + $0.stderr + $0.stdout } ?? []
        #expect(Data(reply).range(of: Data("TOP-SECRET".utf8)) == nil)
        #expect(harness.instrumentRuns.isEmpty)
        #expect(harness.leftovers.isEmpty)
    }

    /// Stock distcc clients send their own absolute `-o`: the job compiles, that path is never created.
    @Test func absoluteOutputPathIsNeverWrittenTo() throws {
        let harness = try ServerHarness("sshccd-output")
        let victim = harness.directory.path + "/victim.o"
        let request = try harness.request("a.c", Self.source, ["gcc", "-O2", "-c", "a.c", "-o", victim])
        let (_, replies) = try harness.serve([request])
        try Command.check("gcc", ["-O2", "-c", "src/a.c", "-o", "local.o"], directory: harness.directory.path)
        #expect(replies.first?.exitCode == 0)
        #expect(replies.first.map { Data($0.object) } == (try harness.directory.read("local.o")))
        #expect(!FileManager.default.fileExists(atPath: victim))
    }

    /// The compiler sees no variable from sshd's environment that changes what gcc runs or writes.
    @Test func compilerEnvironmentIsCleaned() throws {
        let harness = try ServerHarness("sshccd-env")
        try harness.instrument("gcc", "env > \(harness.directory.path)/env\nexec /usr/bin/gcc \"$@\"")
        let request = try harness.request("a.c", Self.source, ["gcc", "-c", "a.c"])
        var environment = harness.environment
        environment["GCC_EXEC_PREFIX"] = "/tmp/evil/"
        environment["DEPENDENCIES_OUTPUT"] = harness.directory.path + "/deps"
        environment["LD_PRELOAD"] = "/tmp/evil.so"
        let result = try Command.run(
            Products.sshccd, harness.baseOptions, environment: environment,
            input: Data(WireEncoder.encode(request)))
        #expect(try ServerHarness.replies(result.stdout).first?.exitCode == 0)
        let seen = try String(contentsOfFile: harness.directory.path + "/env", encoding: .utf8)
        #expect(
            !seen.contains("GCC_EXEC_PREFIX") && !seen.contains("DEPENDENCIES_OUTPUT") && !seen.contains("LD_PRELOAD"))
        #expect(seen.contains("TMPDIR=" + harness.jobs + "/sshccd-"))
        #expect(!harness.directory.exists("deps"))
    }
}
