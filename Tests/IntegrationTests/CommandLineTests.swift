// The command-line conventions of the three programs, as a user and help2man (which makes the man pages from
// --help and --version) rely on them: help on stdout with status 0, a version line naming what is spoken,
// unknown options and stray arguments refused with status 101, and sshcc-mux's --help starting no daemon.

import Foundation
import TestSupport
import Testing

@Suite struct CommandLineTests {
    @Test(arguments: [
        (Products.sshcc, "Usage: sshcc COMPILER"), (Products.sshccMux, "Usage: sshcc-mux"),
        (Products.sshccd, "Usage: sshccd [OPTION]"),
    ])
    func helpAndVersionGoToStandardOutput(program: String, usage: String) throws {
        let directory = try TemporaryDirectory("sshcc-cli")
        let environment = ["SSHCC_DIR": directory.path + "/mux", "PATH": "/usr/bin:/bin"]
        let help = try Command.run(program, ["--help"], environment: environment)
        #expect(help.status == 0 && help.stdoutText.hasPrefix(usage) && help.stderrText.isEmpty, "\(help.stderrText)")
        let version = try Command.run(program, ["--version"], environment: environment)
        let name = URL(fileURLWithPath: program).lastPathComponent
        #expect(version.status == 0 && version.stdoutText.hasPrefix("\(name) 0."))
        #expect(version.stdoutText.contains("distcc protocols 1, 2, 4, 5, 6 and 7"))
        // Neither started a mux daemon.
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/mux/mux.pid"))
        for arguments in [["--frobnicate"], ["--help", "extra"], ["--version", "extra"]] {
            let refused = try Command.run(program, arguments, environment: environment)
            #expect(refused.status == 101 && refused.stdoutText.isEmpty, "\(name) \(arguments)")
            #expect(refused.stderrText.hasPrefix("\(name): "), "\(refused.stderrText)")
        }
    }

    @Test func sshccRefusesWhatItsCommandsDoNotTake() throws {
        for arguments in [["--stop", "now"], ["--status", "--json-ish"], ["--show-hosts", "x"], []] {
            let refused = try Command.run(Products.sshcc, arguments, environment: ["PATH": "/usr/bin:/bin"])
            #expect(refused.status == 101, "\(arguments): \(refused.stderrText)")
            #expect(refused.stderrText.contains("sshcc --help"), "\(arguments): \(refused.stderrText)")
        }
        let badFd = try Command.run(Products.sshccMux, ["--ready-fd", "x"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(badFd.status == 101 && badFd.stderrText.contains("--ready-fd"))
    }
}
