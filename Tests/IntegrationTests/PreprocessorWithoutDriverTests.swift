// The wrapper's preprocessor without gcc's driver (DirectPreprocessor, PreprocessorCommand): for each kind
// of flag the driver expands (macros, dependency files, -pthread, -fopenmp, -march=native, a forced include,
// C++ for a .c file) cc1 run with the learnt command writes the very text and dependency file the driver's
// run writes; and through a real sshd, a build's second job runs no driver and still gives the local object,
// messages and status.

import CompileCore
import Foundation
import POSIXSupport
import TestSupport
import Testing

@testable import SSHCCClient

@Suite struct PreprocessorWithoutDriverTests {
    static let flagSets: [(compiler: String, flags: [String])] = [
        ("gcc", []),
        ("gcc", ["-O2", "-DA=1", "-D", "B=\"q r\"", "-UC", "-DNAME"]),
        ("gcc", ["-MD"]),
        ("gcc", ["-MMD", "-MF", "DEPS/x.d", "-MT", "tgt", "-MP"]),
        ("gcc", ["-pthread", "-fopenmp"]),
        ("gcc", ["-mavx2", "-std=c99", "-fPIC"]),
        ("gcc", ["-include", "INCLUDE/util.h", "-isystem", "INCLUDE"]),
        ("g++", ["-O1", "-std=c++17"]),
    ]

    @Test(arguments: flagSets)
    func cc1WritesWhatTheDriverWrites(compiler: String, flags: [String]) throws {
        let project = try Fixtures.project()
        try FileManager.default.createDirectory(atPath: project.path + "/deps", withIntermediateDirectories: true)
        try Files.makePrivateDirectory(project.muxDirectory)
        let flags = flags.map {
            $0.replacingOccurrences(of: "DEPS", with: project.path + "/deps")
                .replacingOccurrences(of: "INCLUDE", with: project.path + "/include")
        }
        let source = project.path + "/src/prog.c"
        guard
            case .distribute(let plan) = ArgScanner.scan(
                [compiler] + flags + ["-I\(project.path)/include", "-c", source, "-o", project.path + "/prog.o"])
        else { Issue.record("not distributed"); return }
        let driver = try #require(Environment.findExecutable(compiler))
        let arguments = [driver] + plan.preprocessArguments.dropFirst()

        let first = try #require(
            DirectPreprocessor(
                compiler: driver, arguments: arguments, source: plan.source, muxDirectory: project.muxDirectory))
        #expect(first.known == nil)
        #expect(first.arguments(output: "/x") == nil, "nothing is known before the driver is asked")
        first.learn()
        let learnt = try #require(
            DirectPreprocessor(
                compiler: driver, arguments: arguments, source: plan.source, muxDirectory: project.muxDirectory))
        let program = try #require(learnt.runnable?.program)
        let argv = try #require(learnt.arguments(output: project.path + "/direct.i"))
        #expect(program.hasSuffix(compiler == "g++" ? "/cc1plus" : "/cc1"))

        let dependencyFile = plan.preprocessArguments.firstIndex(of: "-MF").map { plan.preprocessArguments[$0 + 1] }
        let byDriver = try Command.run(driver, Array(arguments.dropFirst()) + ["-o", project.path + "/driver.i"])
        let driverDependencies = try dependencyFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let byCC1 = try Command.run(program, Array(argv.dropFirst()))
        #expect(byCC1.status == byDriver.status)
        #expect(byCC1.stderrText == byDriver.stderrText)
        #expect(try project.read("direct.i") == project.read("driver.i"))
        #expect(try dependencyFile.map { try String(contentsOfFile: $0, encoding: .utf8) } == driverDependencies)
    }

    /// An entry is used only under its own key, and never once cc1's file is not the one learnt.
    @Test func anEntryOfAnotherKeyOrAChangedProgramIsNotUsed() throws {
        let project = try Fixtures.project()
        try Files.makePrivateDirectory(project.muxDirectory)
        let driver = try #require(Environment.findExecutable("gcc"))
        let arguments = [driver, project.path + "/src/prog.c", "-E"]
        let first = try #require(
            DirectPreprocessor(
                compiler: driver, arguments: arguments, source: project.path + "/src/prog.c",
                muxDirectory: project.muxDirectory))
        first.learn()
        let cache = try #require(PreprocessorCache.open(in: project.muxDirectory))
        guard case .direct(let program, _, let command) = cache.lookup(first.key) else {
            Issue.record("not learnt")
            return
        }
        cache.store(first.key, .direct(program: program, fingerprint: [1, 2, 3, 4, 5], command: command))
        let stale = try #require(
            DirectPreprocessor(
                compiler: driver, arguments: arguments, source: project.path + "/src/prog.c",
                muxDirectory: project.muxDirectory))
        #expect(stale.arguments(output: "/x") == nil)
        // A file whose key differs in one field (another working directory, say) is not this key's.
        let files = try FileManager.default.contentsOfDirectory(atPath: project.muxDirectory + "/preprocessors")
        let path = project.muxDirectory + "/preprocessors/" + files[0]
        let text = try Data(contentsOf: URL(fileURLWithPath: path))
        let changed = String(decoding: text, as: UTF8.self).replacingOccurrences(
            of: "-E\0-o", with: "-P\0-o")
        try Data(changed.utf8).write(to: URL(fileURLWithPath: path))
        #expect(cache.lookup(first.key) == nil)
    }

    /// The mux directory is not private: nothing is read from it or kept in it.
    @Test func aSharedDirectoryIsNotUsed() throws {
        let project = try Fixtures.project()
        let shared = project.path + "/shared"
        try FileManager.default.createDirectory(
            atPath: shared, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        #expect(chmod(shared, 0o777) == 0)
        #expect(PreprocessorCache.open(in: shared + "/mux") == nil)
        let inside = shared + "/mux"
        try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
        #expect(PreprocessorCache.open(in: inside) == nil, "a directory above is writable by others")
    }

    /// Through sshd: the first job runs the driver and learns, the second (other file, other macro value)
    /// runs cc1 alone, and both give the local object and dependency file; a preprocessing error without
    /// the driver has the local message and status; a replaced compiler is asked again.
    @Test func aBuildsLaterJobsRunNoDriver() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let log = project.path + "/driver.log"
        let bin = project.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let gcc = try #require(Environment.findExecutable("gcc"))
        func writeDriver(_ mark: String) throws {
            try project.write("bin/gcc", "#!/bin/sh\n# \(mark)\necho \"$*\" >> \(log)\nexec \(gcc) \"$@\"\n")
            #expect(chmod(bin + "/gcc", 0o755) == 0)
        }
        try writeDriver("first")
        try project.write("src/second.c", "#include \"util.h\"\nint second(void) { return NAME; }\n")
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0", "PATH": path])
        func driverRuns() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        func compile(_ file: String, _ value: String) throws -> (CommandResult, CommandResult) {
            let common = ["gcc", "-O2", "-DNAME=\(value)", "-MD", "-Iinclude", "-c", "src/\(file).c"]
            // The reference runs the real driver by its path (not the logging one), as a build would.
            let local = try Fixtures.local(
                [gcc] + common.dropFirst() + ["-o", "out-local/\(file).o"], in: project.path, environment: environment)
            let remote = try Fixtures.sshcc(
                common + ["-o", "out-remote/\(file).o"], in: project.path, environment: environment)
            #expect(local.status == 0 && remote.status == 0, "\(local.stderrText)\n\(remote.stderrText)")
            #expect(try project.read("out-remote/\(file).o") == project.read("out-local/\(file).o"))
            let dependencies = { (dir: String) throws -> String in
                try String(contentsOfFile: project.path + "/\(dir)/\(file).d", encoding: .utf8)
                    .replacingOccurrences(of: dir, with: "out")
            }
            #expect(try dependencies("out-remote") == dependencies("out-local"))
            return (local, remote)
        }

        _ = try compile("prog", "1")
        let afterFirst = driverRuns()
        #expect(afterFirst.contains { $0.contains("-###") }, "the first job asks the driver: \(afterFirst)")
        let (local, remote) = try compile("second", "2")
        let second = Array(driverRuns().dropFirst(afterFirst.count))
        #expect(second.isEmpty, "the second job ran no driver: \(second)")
        #expect(remote.status == 0 && local.status == 0)
        #expect(server.jobsServed == 2)

        // A preprocessing error, found by cc1 without the driver: the file is then compiled locally (one driver
        // run), which prints the same messages and status as a local build.
        try project.write("src/pp_error.c", "#include \"util.h\"\n#include \"missing.h\"\n")
        let errorLocal = try Fixtures.local(
            [gcc, "-O2", "-DNAME=3", "-MD", "-Iinclude", "-c", "src/pp_error.c", "-o", "out-local/e.o"],
            in: project.path, environment: environment)
        let runsBefore = driverRuns().count
        let errorRemote = try Fixtures.sshcc(
            ["gcc", "-O2", "-DNAME=3", "-MD", "-Iinclude", "-c", "src/pp_error.c", "-o", "out-remote/e.o"],
            in: project.path, environment: environment)
        #expect(driverRuns().count == runsBefore + 1, "cc1 alone found the error, the local compile reported it")
        #expect(errorRemote.status == errorLocal.status && errorLocal.status != 0)
        #expect(errorRemote.stderrText == errorLocal.stderrText)

        // Another compiler at the same path: its driver is asked again.
        try writeDriver("second")
        let runsBeforeChange = driverRuns().count
        _ = try compile("prog", "4")
        #expect(driverRuns().dropFirst(runsBeforeChange).contains { $0.contains("-###") })
        attachLogsOnFailure(server, server.jobsServed == 3)
    }
}
