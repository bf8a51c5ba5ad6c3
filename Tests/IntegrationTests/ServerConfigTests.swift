// sshccd's configuration file: its format (every command-line setting, `#` comments, the bad line named),
// `--show-config`, the command line overriding the file, the trust check (owner, modes, the directories
// above), and a server configured by its file alone through a real sshd — a broken file makes every job
// refused with the reason, never ignored.

import Foundation
import SSHCCServer
import TestSupport
import Testing

@Suite struct ServerConfigTests {
    static let user = String(cString: getpwuid(getuid()).pointee.pw_name)

    @Test func theFileIsTheCommandLineWithoutDashes() throws {
        let text = "# a comment\n\n  jobs\t3  \r\nsandbox-read /srv/a,/srv/b\nallow tcc\n   # indented comment\n"
        #expect(
            try ServerConfigFile.arguments(text, path: "f")
                == ["--jobs", "3", "--sandbox-read", "/srv/a,/srv/b", "--allow", "tcc"])
        #expect(
            throws: UsageError(
                "f line 3: unknown setting 'jbs' (settings: \(ServerConfigFile.settings.joined(separator: ", ")))")
        ) {
            try ServerConfigFile.arguments("jobs 2\n\njbs 4\n", path: "f")
        }
        #expect(throws: UsageError("f line 1: --jobs needs a number from 1 to 4096")) {
            try ServerConfigFile.arguments("jobs many\n", path: "f")
        }
        #expect(throws: UsageError("f line 2: 'max-cpu' needs a value")) {
            try ServerConfigFile.arguments("jobs 2\nmax-cpu\n", path: "f")
        }
        // A file cannot name another file, nor hold the flags only a command line has.
        for line in ["config /etc/other.conf", "show-config yes", "inetd yes", "help x"] {
            #expect(throws: UsageError.self) { try ServerConfigFile.arguments(line, path: "f") }
        }
    }

    /// What `--show-config` prints is a file that gives the same settings.
    @Test func theShownSettingsReadBackTheSame() throws {
        guard
            case .run(let options) = try ServerOptions.parse([
                "--jobs", "3", "--allow", "tcc", "--sandbox-read", "/srv/a", "--protocols", "1,4", "--max-cpu", "7",
                "--sandbox", "off", "--direct-steps", "off", "--min-free-memory", "5", "--log", "/l/x.log",
            ])
        else { throw TestSupportError("not parsed") }
        let text = ServerConfigFile.render(options)
        guard case .run(let again) = try ServerOptions.parse(ServerConfigFile.arguments(text, path: "shown")) else {
            throw TestSupportError("not parsed")
        }
        #expect(again == options, "\(text)")
        #expect(text.contains("compilers c++,cc,clang,clang++,g++,gcc,tcc\n") && text.contains("sandbox-read /srv/a\n"))
    }

    @Test func theCommandLineOverridesTheFile() throws {
        let directory = try TemporaryDirectory("sshccd-config")
        let file = try directory.write("sshccd.conf", "jobs 3\nmax-cpu 100\nlog \(directory.path)/%u.log\n")
        let shown = try Command.run(Products.sshccd, ["--config", file, "--max-cpu", "50", "--show-config"])
        #expect(shown.status == 0, "\(shown.stderrText)")
        #expect(shown.stdoutText.contains("(from \(file) and the command line)"))
        for line in ["jobs 3", "max-cpu 50", "log \(directory.path)/\(Self.user).log"] {
            #expect(shown.stdoutText.contains(line + "\n"), "\(shown.stdoutText)")
        }
        // The default file is read when it is there; `none` reads none.
        guard case .run(let defaulted) = try ServerOptions.load([], defaultConfig: file),
            case .run(let none) = try ServerOptions.load(["--config", "none"], defaultConfig: file),
            case .run(let absent) = try ServerOptions.load([], defaultConfig: directory.path + "/absent.conf")
        else { throw TestSupportError("not parsed") }
        #expect(defaulted.slots.count == 3 && defaulted.configFile == file)
        #expect(none.slots.count != 3 || ProcessInfo.processInfo.activeProcessorCount == 3)
        #expect(none.configFile == nil && absent.configFile == nil && absent.configurationProblem == nil)
    }

    /// A file someone else could have written is not read: sshccd refuses jobs rather than run with it.
    @Test func anUntrustedFileIsRefused() throws {
        let directory = try TemporaryDirectory("sshccd-config")
        let file = try directory.write("sshccd.conf", "jobs 3\n")
        func problem() throws -> String? {
            guard case .run(let options) = try ServerOptions.load(["--config", file]) else { return "not parsed" }
            return options.configurationProblem
        }
        #expect(try problem() == nil)
        chmod(file, 0o666)
        #expect(try problem()?.contains("others may write it (mode 666)") == true)
        let shown = try Command.run(Products.sshccd, ["--config", file, "--show-config"])
        #expect(shown.status == 101 && shown.stderrText.contains("others may write it"), "\(shown.stderrText)")
        chmod(file, 0o644)
        if getuid() == 0 {
            chown(file, 4321, 4321)
            #expect(try problem()?.contains("belongs to uid 4321") == true)
            chown(file, 0, 0)
        }
        // In a directory others may write (not sticky): the file could be swapped for another.
        let open = directory.path + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        chmod(open, 0o777)
        try FileManager.default.copyItem(atPath: file, toPath: open + "/sshccd.conf")
        guard case .run(let inOpen) = try ServerOptions.load(["--config", open + "/sshccd.conf"]) else { return }
        #expect(inOpen.configurationProblem?.contains("writable by others and not sticky") == true)
        // A file named on the command line must be there.
        guard case .run(let missing) = try ServerOptions.load(["--config", directory.path + "/nope"]) else { return }
        #expect(missing.configurationProblem?.contains("does not resolve") == true)
    }

    /// sshd starts `sshccd --config FILE` and nothing else: the file gives the log (one per account, `%u`),
    /// the slots, the plugins and the allowed compilers. A broken file: every job refused, the reason shown.
    @Test func aServerConfiguredByItsFile() throws {
        let directory = try TemporaryDirectory("sshccd-config")
        let settings = """
            # as an administrator would write it
            log \(directory.path)/logs/%u.log
            cache \(directory.path)/cache
            slots sshcc-config-test-\(getpid())-\(Int.random(in: 0..<1_000_000))
            gcc-plugins \(GCCPluginBuild.directory)
            compilers cc

            """
        let file = try directory.write("sshccd.conf", settings)
        let server = try SSHDServer(
            subsystem: false, extraConfig: ["Subsystem sshcc \(Products.sshccd) --config \(file)"])
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_FALLBACK": "0"])
        let compile = ["-Iinclude", "-c", "src/prog.c", "-o", "out-remote/prog.o"]

        let remote = try Fixtures.sshcc(["cc"] + compile, in: project.path, environment: environment)
        #expect(remote.status == 0, "\(remote.stderrText)")
        let log = (try? String(contentsOfFile: "\(directory.path)/logs/\(Self.user).log", encoding: .utf8)) ?? ""
        #expect(log.contains("info: job 1: cc "), "\(log)")
        let notAllowed = try Fixtures.sshcc(["gcc"] + compile, in: project.path, environment: environment)
        #expect(notAllowed.status == 108 && notAllowed.stderrText.contains("'gcc' is not allowed"))

        // A typo in the file: every new sshccd refuses its jobs and says where the typo is.
        try (settings + "jbs 4\n").write(toFile: file, atomically: true, encoding: .utf8)
        server.directory.stopMuxDaemon()
        let refused = try Fixtures.sshcc(["cc"] + compile, in: project.path, environment: environment)
        #expect(refused.status == 108, "\(refused.stderrText)")
        #expect(refused.stderrText.contains("\(file) line 7: unknown setting 'jbs'"), "\(refused.stderrText)")
        let local = try Fixtures.sshcc(
            ["cc"] + compile, in: project.path, environment: server.clientEnvironment(["SSHCC_VERBOSE": "1"]))
        #expect(local.status == 0 && local.stderrText.contains("compiling locally"), "\(local.stderrText)")
        attachLogsOnFailure(server, remote.status == 0 && refused.status == 108)
    }
}

extension ServerConfigTests {
    /// The example an administrator copies names every setting, and reads back as a valid file.
    @Test func theExampleFileNamesEverySetting() throws {
        let example = try String(contentsOfFile: Products.package + "/Keys/sshccd.conf", encoding: .utf8)
        for setting in ServerConfigFile.settings {
            #expect(example.contains("\n#\(setting) "), "Keys/sshccd.conf lacks \(setting)")
        }
        let uncommented = example.split(separator: "\n").filter { $0.hasPrefix("#") && !$0.hasPrefix("# ") }
            .map { $0.dropFirst() }.joined(separator: "\n")
        #expect(throws: Never.self) { try ServerConfigFile.arguments(uncommented, path: "example") }
    }
}
