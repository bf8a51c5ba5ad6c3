// sshccd driven directly on stdin/stdout with crafted streams: many jobs per stream, refusals, garbage,
// truncation, and nothing left behind in its temporary directory.

import DistccWire
import Foundation
import TestSupport
import Testing

@Suite struct SSHCCDTests {
    let directory: TemporaryDirectory
    let jobs: String

    init() throws {
        directory = try TemporaryDirectory("sshccd")
        jobs = directory.path + "/jobs"
        try FileManager.default.createDirectory(atPath: jobs, withIntermediateDirectories: true)
    }

    func serve(_ input: [UInt8], options: [String] = []) throws -> CommandResult {
        try Command.run(
            Products.sshccd,
            ["--config", "none", "--log", directory.path + "/sshccd.log", "--tmpdir", jobs, "--objects", "none"]
                + options,
            input: Data(input))
    }

    func replies(_ output: Data) throws -> [Reply] { try ServerHarness.replies(output) }

    var leftovers: [String] { (try? FileManager.default.contentsOfDirectory(atPath: jobs)) ?? ["unreadable"] }
    var log: String { (try? String(contentsOfFile: directory.path + "/sshccd.log", encoding: .utf8)) ?? "" }

    func request(_ source: String, _ arguments: [String]) throws -> Request {
        try directory.write("input/" + source, "int value(int x) { return x * 3; }\n")
        let text = try Command.check("gcc", ["-E", "input/" + source], directory: directory.path).stdout
        return Request(arguments: arguments, source: Array(text))
    }

    @Test func servesJobsBackToBackOnOneStream() throws {
        let c = try request("a.c", ["gcc", "-O2", "-c", "a.c", "-o", "/elsewhere/a.o"])
        let refused = Request(arguments: ["bash", "-c", "a.c"], source: [])
        let result = try serve(WireEncoder.encode(c) + WireEncoder.encode(refused) + WireEncoder.encode(c))
        #expect(result.status == 0)
        let answers = try replies(result.stdout)
        #expect(answers.count == 3)
        try Command.check("gcc", ["-O2", "-c", "input/a.c", "-o", "local.o"], directory: directory.path)
        let local = Array(try directory.read("local.o"))
        #expect(answers[0].exitCode == 0 && answers[0].object == local)
        #expect(answers[1].exitCode == 108)
        #expect(String(decoding: answers[1].stderr, as: UTF8.self).hasPrefix("sshccd: compiler 'bash' is not allowed"))
        #expect(answers[2].object == local)
        #expect(!FileManager.default.fileExists(atPath: "/elsewhere/a.o"))
        #expect(leftovers.isEmpty)
    }

    @Test func refusedArgumentRunsNothing() throws {
        let marker = directory.path + "/plugin-ran"
        let hostile = try request("p.c", ["gcc", "-fplugin=/nonexistent/\(marker).so", "-c", "p.c"])
        let answers = try replies(try serve(WireEncoder.encode(hostile)).stdout)
        #expect(answers.first?.exitCode == 108)
        let message = String(decoding: answers.first?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("-fplugin"))
        #expect(log.contains("refused"))
    }

    /// Even preprocessed text can make gcc read a server file; such sources are refused, nothing is compiled.
    @Test(arguments: [
        "#pragma GCC pch_preprocess \"/etc/hostname\"\nint x;\n",
        "asm(\".incbin \\\"/etc/hostname\\\"\");\nint x;\n",
    ])
    func sourcesThatReadServerFilesAreRefused(_ text: String) throws {
        let hostile = Request(arguments: ["gcc", "-c", "h.c"], source: Array(text.utf8))
        let answers = try replies(try serve(WireEncoder.encode(hostile)).stdout)
        #expect(answers.first?.exitCode == 108)
        #expect(answers.first?.object.isEmpty == true)
        #expect(leftovers.isEmpty)
    }

    /// cc1 fails before it writes any assembly: the assembly FIFO's reader is released, the job answers with
    /// gcc's own status and messages, and the next job on the stream compiles.
    @Test func compileErrorComesBackAsTheCompilersOwnStatus() throws {
        let broken = Request(arguments: ["gcc", "-c", "b.c"], source: Array("# 1 \"b.c\"\nint f( { }\n".utf8))
        let good = try request("a.c", ["gcc", "-c", "a.c"])
        let answers = try replies(try serve(WireEncoder.encode(broken) + WireEncoder.encode(good)).stdout)
        #expect(answers.count == 2)
        #expect(answers.first?.exitCode == 1)
        #expect(answers.first?.object.isEmpty == true)
        let message = String(decoding: answers.first?.stderr ?? [], as: UTF8.self)
        #expect(message.contains("b.c:1:"))
        #expect(answers.last?.exitCode == 0 && answers.last?.object.isEmpty == false)
        #expect(leftovers.isEmpty)
    }

    /// cc1 and `as` run without their driver (`gcc -###`'s command lines, once per flag set) answer exactly as
    /// the driver does: objects, warnings, errors and statuses byte for byte, C and C++, with and without -g.
    @Test func directStepsAnswerExactlyAsTheDriver() throws {
        try directory.write("input/warn.c", "int f(int x) { int unused; return x; }\n")
        try directory.write("input/bad.c", "int f( { }\n")
        try directory.write("input/obj.cpp", "#include <vector>\nint g(std::vector<int> v) { return v.size(); }\n")
        var stream: [UInt8] = []
        for (file, compiler) in [("warn.c", "gcc"), ("bad.c", "gcc"), ("obj.cpp", "g++")] {
            // -g: the text names its working directory (else cc1 would record the job directory's, which
            // differs between two runs).
            let text = try Command.run(compiler, ["-g", "-E", "input/" + file], directory: directory.path).stdout
            for flags in [["-O2"], ["-g", "-O2", "-Wall"], ["-O2"]] {
                let arguments = [compiler] + flags + ["-c", file, "-o", "x.o"]
                stream += WireEncoder.encode(Request(arguments: arguments, source: Array(text)))
            }
        }
        let direct = try serve(stream)
        let directLog = log
        let driver = try serve(stream, options: ["--direct-steps", "off"])
        #expect(direct.status == 0 && driver.status == 0)
        let (fromDirect, fromDriver) = (try replies(direct.stdout), try replies(driver.stdout))
        #expect(fromDirect.count == 9 && fromDriver.count == 9)
        for (index, (direct, driver)) in zip(fromDirect, fromDriver).enumerated() {
            #expect(direct.status == driver.status && direct.stderr == driver.stderr, "job \(index)")
            #expect(direct.object == driver.object, "job \(index): objects differ")
        }
        #expect(fromDirect.map(\.exitCode) == [0, 0, 0, 1, 1, 1, 0, 0, 0])
        #expect(String(decoding: fromDirect[1].stderr, as: UTF8.self).contains("unused variable"))
        #expect(fromDirect[6].object.count > 100 && fromDirect[7].object != fromDirect[6].object, "-g differs")
        // Every job that compiled went direct (the driver ran only for `-###`); none did with `off`.
        let directJobs = directLog.split(separator: "\n").filter { $0.contains(" direct status=0") }
        #expect(directJobs.count == 6, "\(directLog)")
        #expect(!log.dropFirst(directLog.count).contains(" direct "))
        #expect(leftovers.isEmpty)
    }

    @Test func garbageIsAProtocolErrorWithNoReply() throws {
        let result = try serve(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(result.status == 109)
        #expect(result.stdout.isEmpty)
        #expect(log.contains("protocol error: expected token DIST, got 'GET / HTTP/1'"))
        #expect(leftovers.isEmpty)
    }

    @Test func truncatedRequestIsAQuietAbort() throws {
        let c = try request("t.c", ["gcc", "-c", "t.c"])
        let result = try serve(Array(WireEncoder.encode(c).dropLast(3)))
        #expect(result.status == 113)
        #expect(result.stdout.isEmpty)
        #expect(log.contains("client closed the stream early"))
        #expect(leftovers.isEmpty)
    }

    @Test func emptyInputIsACleanEnd() throws {
        let result = try serve([])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
    }

    @Test func logIsPrivate() throws {
        _ = try serve([])
        let c = try request("l.c", ["gcc", "-c", "l.c"])
        _ = try serve(WireEncoder.encode(c))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/sshccd.log")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func commandLine() throws {
        #expect(try Command.run(Products.sshccd, ["--version"]).stdoutText.hasPrefix("sshccd "))
        #expect(try Command.run(Products.sshccd, ["--help"]).stdoutText.contains("Subsystem sshcc"))
        let bad = try Command.run(Products.sshccd, ["--frobnicate"])
        #expect(bad.status == 101)
        #expect(bad.stderrText.contains("unknown option '--frobnicate'"))
        // distccd's own flags are accepted, and do not switch the allow-list off.
        let refused = Request(arguments: ["sh", "-c", "x.c"], source: [])
        let result = try serve(WireEncoder.encode(refused), options: ["--inetd", "--enable-tcp-insecure"])
        #expect(try replies(result.stdout).first?.exitCode == 108)
    }
}
