// A server that answers `NEED` when it was not asked, or with bytes after it, is out of step (Docs/protocol.md,
// "Asking before sending"): the job is not confused with an answer, the channel is dropped, the host is backed
// off as one that sends bad replies, and the job still compiles (locally here, the only host being bad).

import Foundation
import TestSupport
import Testing

@Suite struct HostileAnswerTests {
    /// A "server" that answers each whole request with `NEED`, and a question with `NEED` and a byte more.
    static let needy = """
        #!/usr/bin/python3
        import os
        data = b""
        while True:
            read = os.read(0, 65536)
            if not read:
                break
            data += read
            if b"DOTH" in data or b"DOTI" in data:
                os.write(1, b"NEED00000000" + (b"x" if b"DOTH" in data else b""))
                data = b""
        """

    @Test(arguments: ["never", "always"])
    func needOutOfStepIsABadReply(ask: String) throws {
        let scripts = try TemporaryDirectory("sshcc-needy")
        chmod(scripts.path, 0o755)
        let script = try scripts.write("needy.py", Self.needy)
        chmod(script, 0o755)
        let server = try SSHDServer(subsystem: false, extraConfig: ["Subsystem sshcc \(script)"])
        let project = try Fixtures.project()
        let environment = server.clientEnvironment(["SSHCC_ASK": ask, "SSHCC_BACKOFF": "60"])
        let result = try Fixtures.sshcc(
            ["gcc", "-Iinclude", "-c", "src/prog.c", "-o", "prog.o"], in: project.path, environment: environment)
        #expect(result.status == 0, "compiled locally: \(result.stderrText)")
        #expect(FileManager.default.fileExists(atPath: project.path + "/prog.o"))
        let status = try Fixtures.sshcc(["--status"], in: project.path, environment: environment).stdoutText
        let why = ask == "always" ? "bytes after its NEED" : "NEED for a question never asked"
        #expect(status.contains("sent a bad reply") && status.contains(why), "\(status)")
        #expect(status.contains(": down"), "backed off\n\(status)")
    }
}
