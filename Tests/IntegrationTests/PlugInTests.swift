// The ways people plug sshcc into builds, each through a real sshd with real tools: CC="sshcc gcc" under make,
// a masquerade directory first on PATH, ccache with CCACHE_PREFIX=sshcc, CMake's compiler launcher, an
// autotools configure script; plus compilers by other names (clang, a cross-compiler name the server lacks).

import Foundation
import TestSupport
import Testing

@Suite struct PlugInTests {
    static let makefile = """
        OBJECTS = prog.o plain.o
        prog: $(OBJECTS)
        \t$(CXX) $(OBJECTS) -o $@
        prog.o: src/prog.c
        \t$(CC) -O2 -Iinclude -c src/prog.c -o $@
        plain.o: src/plain.cpp
        \t$(CXX) -O2 -c src/plain.cpp -o $@

        """

    /// The objects the same commands give with the real compilers.
    func localObjects(_ project: TemporaryDirectory) throws -> (prog: Data, plain: Data) {
        try Command.check(
            "gcc", ["-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-local/prog.o"], directory: project.path)
        try Command.check("g++", ["-O2", "-c", "src/plain.cpp", "-o", "out-local/plain.o"], directory: project.path)
        return (try project.read("out-local/prog.o"), try project.read("out-local/plain.o"))
    }

    @Test func masqueradeDirectoryFirstOnPath() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write("Makefile", Self.makefile)
        let expected = try localObjects(project)
        let masquerade = project.path + "/masq"
        let install = try Command.run(Products.sshcc, ["--install-masquerade", masquerade])
        #expect(install.status == 0)
        #expect(install.stdoutText.contains("export PATH=\(masquerade):$PATH"))
        for name in ["gcc", "cc", "g++", "c++", "clang"] {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: masquerade + "/" + name)
            #expect(
                URL(fileURLWithPath: target).resolvingSymlinksInPath().path
                    == URL(fileURLWithPath: Products.sshcc).resolvingSymlinksInPath().path)
        }

        var environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        environment["PATH"] = masquerade + ":" + (environment["PATH"] ?? "")
        // make's default CC is cc and CXX is g++: both resolve to the masquerade links.
        let build = try Command.run("make", ["-j2"], environment: environment, directory: project.path)
        #expect(build.status == 0, "\(build.stderrText)")
        #expect(try project.read("prog.o") == expected.prog)
        #expect(try project.read("plain.o") == expected.plain)
        #expect(server.jobsServed == 2, "both compiles remote")
        let run = try Command.run(project.path + "/prog", [])
        #expect(run.status == 0)
        attachLogsOnFailure(server, build.status == 0 && server.jobsServed == 2)
    }

    /// ccache calls `sshcc /masq/gcc …` when the masquerade directory comes first: sshcc must find the real gcc.
    @Test func compilerGivenAsAPathToSshccItself() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let masquerade = project.path + "/masq"
        try Command.check(Products.sshcc, ["--install-masquerade", masquerade])
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let result = try Fixtures.sshcc(
            [masquerade + "/gcc", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/p.o"], in: project.path,
            environment: environment)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(server.jobsServed == 1)
    }

    /// A wrapper directory after the masquerade directory that calls `gcc` by PATH leads back to sshcc: the
    /// loop is caught with a message instead of forking forever.
    @Test func pathLoopThroughAnotherWrapperIsCaught() throws {
        let project = try Fixtures.project()
        let masquerade = project.path + "/masq"
        try Command.check(Products.sshcc, ["--install-masquerade", masquerade])
        let wrapper = try project.write("wrap/gcc", "#!/bin/sh\nexec gcc \"$@\"\n")
        chmod(wrapper, 0o755)
        let environment = [
            "PATH": "\(masquerade):\(project.path)/wrap:/usr/bin:/bin", "SSHCC_HOSTS": "",
            "SSHCC_DIR": project.path + "/mux",
        ]
        let result = try Command.run(
            "\(masquerade)/gcc", ["-c", "src/plain.c", "-o", "out-remote/x.o"], environment: environment,
            directory: project.path)
        #expect(result.status != 0)
        #expect(result.stderrText.contains("a loop through PATH"), "\(result.stderrText)")
    }

    @Test func ccacheInFrontHitsNeverTouchTheNetwork() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let expected = try localObjects(project)
        let environment = server.clientEnvironment([
            "SSHCC_FALLBACK": "0", "CCACHE_DIR": project.path + "/ccache", "CCACHE_PREFIX": Products.sshcc,
            "CCACHE_NOHASHDIR": "1",
        ])
        let arguments = ["gcc", "-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"]
        let first = try Command.run("ccache", arguments, environment: environment, directory: project.path)
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(server.jobsServed == 1, "a cache miss compiles through sshcc")
        try FileManager.default.removeItem(atPath: project.path + "/out-remote/prog.o")
        let second = try Command.run("ccache", arguments, environment: environment, directory: project.path)
        #expect(second.status == 0)
        #expect(server.jobsServed == 1, "a cache hit must not reach the server")
        #expect(try project.read("out-remote/prog.o") == expected.prog)
        let stats = try Command.run("ccache", ["--print-stats"], environment: environment).stdoutText
        #expect(stats.contains("direct_cache_hit\t1") || stats.contains("preprocessed_cache_hit\t1"), "\(stats)")
    }

    /// The fixture project's two programs for CMake, with `settings` before them.
    static func cmakeProject(settings: String = "") -> String {
        """
        cmake_minimum_required(VERSION 3.13)
        project(demo C CXX)
        \(settings)
        add_executable(prog src/prog.c)
        target_include_directories(prog PRIVATE include)
        add_executable(cxxprog src/prog.cpp)
        target_include_directories(cxxprog PRIVATE include)

        """
    }

    @Test func cmakeCompilerLauncher() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write("CMakeLists.txt", Self.cmakeProject())
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let configure = try Command.run(
            "cmake",
            [
                "-S", ".", "-B", "build", "-DCMAKE_C_COMPILER_LAUNCHER=\(Products.sshcc)",
                "-DCMAKE_CXX_COMPILER_LAUNCHER=\(Products.sshcc)", "-DCMAKE_BUILD_TYPE=Release",
            ], environment: environment, directory: project.path)
        #expect(configure.status == 0, "\(configure.stderrText)")
        let build = try Command.run(
            "cmake", ["--build", "build", "-j", "2"], environment: environment, directory: project.path)
        #expect(build.status == 0, "\(build.stdoutText)\(build.stderrText)")
        #expect(server.jobsServed == 2, "both sources compiled remotely")
        #expect(try Command.run(project.path + "/build/prog", []).status == 0)
        #expect(try Command.run(project.path + "/build/cxxprog", []).stdoutText == "6\n")
        attachLogsOnFailure(server, build.status == 0)
    }

    /// A project that forces its own launcher (`set(CMAKE_C_COMPILER_LAUNCHER ccache)`, common in big trees)
    /// ignores the one on the command line: CCACHE_PREFIX=sshcc puts sshcc behind that ccache.
    @Test func cmakeProjectForcingCcacheGoesThroughCcachePrefix() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write(
            "CMakeLists.txt",
            Self.cmakeProject(
                settings: """
                    find_program(CCACHE ccache REQUIRED)
                    set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE})
                    set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE})
                    """))
        let environment = server.clientEnvironment([
            "SSHCC_FALLBACK": "0", "CCACHE_DIR": project.path + "/ccache", "CCACHE_PREFIX": Products.sshcc,
        ])
        let configure = try Command.run(
            "cmake", ["-S", ".", "-B", "build", "-DCMAKE_BUILD_TYPE=Release"], environment: environment,
            directory: project.path)
        #expect(configure.status == 0, "\(configure.stderrText)")
        let build = try Command.run(
            "cmake", ["--build", "build", "-j", "2"], environment: environment, directory: project.path)
        #expect(build.status == 0, "\(build.stdoutText)\(build.stderrText)")
        #expect(server.jobsServed == 2, "both cache misses compiled remotely")
        #expect(try Command.run(project.path + "/build/cxxprog", []).stdoutText == "6\n")
        // A clean rebuild is all cache hits: nothing more reaches the server.
        let clean = try Command.run(
            "cmake", ["--build", "build", "--clean-first", "-j", "2"], environment: environment, directory: project.path
        )
        #expect(clean.status == 0)
        #expect(server.jobsServed == 2, "ccache answered the rebuild")
        attachLogsOnFailure(server, build.status == 0)
    }

    /// Portage's network-sandbox (and any build in a network namespace of its own) cannot reach the farm, but
    /// it can reach a mux daemon started outside it: the daemon's socket is a file, which namespaces share.
    @Test func aBuildInANetworkSandboxUsesADaemonStartedOutsideIt() throws {
        guard getuid() == 0 else {
            Issue.record("needs root to make a network namespace (CI runs as root)")
            return
        }
        let server = try SSHDServer()
        let project = try Fixtures.project()
        var environment = server.clientEnvironment(["SSHCC_VERBOSE": "1", "SSHCC_FALLBACK": "0"])
        environment["SSHCC_DIR"] = project.muxDirectory
        let compile = ["gcc", "-O2", "-Iinclude", "-c", "src/prog.c", "-o"]
        // Inside a fresh network namespace with no daemon yet: the one it starts there reaches nothing.
        let isolated = try Command.run(
            "unshare", ["-n", Products.sshcc] + compile + ["out-remote/isolated.o"], environment: environment,
            directory: project.path)
        #expect(isolated.status != 0, "no farm from inside the sandbox: \(isolated.stderrText)")
        project.stopMuxDaemon()
        // A daemon started outside (here by a first compile; for portage, a service) serves the sandboxed build.
        let outside = try Fixtures.sshcc(compile + ["out-remote/outside.o"], in: project.path, environment: environment)
        #expect(outside.status == 0, "\(outside.stderrText)")
        let sandboxed = try Command.run(
            "unshare", ["-n", Products.sshcc] + compile + ["out-remote/sandboxed.o"], environment: environment,
            directory: project.path)
        #expect(sandboxed.status == 0, "\(sandboxed.stderrText)")
        #expect(sandboxed.stderrText.contains("compiled on \(server.hostSpec)"), "\(sandboxed.stderrText)")
        #expect(try project.read("out-remote/sandboxed.o") == project.read("out-remote/outside.o"))
    }

    @Test func autotoolsConfigureAndMake() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        try project.write(
            "configure.ac",
            """
            AC_INIT([demo], [1.0])
            AM_INIT_AUTOMAKE([foreign subdir-objects])
            AC_PROG_CC
            AC_CHECK_HEADERS([string.h unistd.h])
            AC_CONFIG_FILES([Makefile])
            AC_OUTPUT

            """)
        try project.write("Makefile.am", "bin_PROGRAMS = prog\nprog_SOURCES = src/prog.c\nprog_CPPFLAGS = -Iinclude\n")
        try Command.check("autoreconf", ["-i"], directory: project.path)
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let configure = try Command.run(
            project.path + "/configure", ["CC=\(Products.sshcc) gcc"], environment: environment,
            directory: project.path)
        #expect(configure.status == 0, "\(configure.stdoutText)\(configure.stderrText)")
        let probes = server.jobsServed
        #expect(probes > 0, "configure's compile-only probes went remote")
        let build = try Command.run("make", ["-j2"], environment: environment, directory: project.path)
        #expect(build.status == 0, "\(build.stderrText)")
        #expect(server.jobsServed == probes + 1)
        // automake's rule uses -MT/-MD/-MP/-MF: the dependency file is what gcc writes locally.
        let deps = String(decoding: try project.read("src/.deps/prog-prog.Po"), as: UTF8.self)
        #expect(deps.contains("src/prog-prog.o: src/prog.c"))
        #expect(deps.contains("include/util.h"))
        #expect(try Command.run(project.path + "/prog", []).status == 0)
    }

    /// Versioned, cross-compiler and absolute names: the server runs the same name from its own PATH.
    @Test(arguments: ["gcc-12", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-gcc-12", "/usr/bin/gcc", "cc", "c++"])
    func compilerNamesTravel(_ compiler: String) throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let source = compiler == "c++" ? "src/plain.cpp" : "src/prog.c"
        let common = ["-O2", "-g", "-Iinclude", "-c", source]
        try Fixtures.local([compiler] + common + ["-o", "out-local/x.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(
            [compiler] + common + ["-o", "out-remote/x.o"], in: project.path, environment: environment)
        #expect(remote.status == 0, "\(remote.stderrText)")
        #expect(try project.read("out-remote/x.o") == project.read("out-local/x.o"))
        #expect(server.jobsServed == 1)
        let name = compiler.split(separator: "/").last.map(String.init) ?? compiler
        let log = try String(contentsOfFile: server.sshccdLog, encoding: .utf8)
        #expect(log.contains(name), "sshccd ran \(name) by name")
    }

    /// clang by name, found on the server's PATH (sshd's SetEnv here): distributed like gcc.
    @Test func clangCompilesRemotely() throws {
        let clang = try Command.which("clang")
        let directory = URL(fileURLWithPath: clang).deletingLastPathComponent().path
        let server = try SSHDServer(extraConfig: ["SetEnv PATH=\(directory):/usr/bin:/bin"])
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let common = ["-O2", "-Iinclude", "-c", "src/prog.c"]
        try Fixtures.local(["clang"] + common + ["-o", "out-local/c.o"], in: project.path, environment: environment)
        let remote = try Fixtures.sshcc(
            ["clang"] + common + ["-o", "out-remote/c.o"], in: project.path, environment: environment)
        #expect(remote.status == 0, "\(remote.stderrText)")
        #expect(server.jobsServed == 1)
        #expect(try project.read("out-remote/c.o") == project.read("out-local/c.o"))
    }

    /// A compiler the client has and the server lacks: the server says so, the client compiles locally
    /// (or stops, under SSHCC_FALLBACK=0).
    @Test func compilerMissingOnTheServerFallsBackLocally() throws {
        let server = try SSHDServer()
        let project = try Fixtures.project()
        let bin = project.path + "/client-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: bin + "/x86_64-test-linux-gnu-gcc", withDestinationPath: try Command.which("gcc"))
        var environment = server.clientEnvironment()
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "")
        let arguments = ["x86_64-test-linux-gnu-gcc", "-O2", "-Iinclude", "-c", "src/prog.c", "-o", "out-remote/p.o"]
        let result = try Fixtures.sshcc(arguments, in: project.path, environment: environment)
        #expect(result.status == 0)
        #expect(result.stderrText.contains("'x86_64-test-linux-gnu-gcc' is allowed but not installed on this server"))
        #expect(result.stderrText.contains("compiling locally"))
        #expect(try project.read("out-remote/p.o") == localObjects(project).prog)

        environment["SSHCC_FALLBACK"] = "0"
        let strict = try Fixtures.sshcc(arguments, in: project.path, environment: environment)
        #expect(strict.status != 0)
        #expect(strict.stderrText.contains("not compiling locally"))
    }
}
