// How far a server's refusal reaches, as sshccd writes it and sshcc reads it (older servers: the job's own).

import CompileCore
import Testing

@Suite struct ServerRefusalTests {
    @Test(arguments: [RefusalScope.job, .compiler, .host])
    func aRefusalReadsBackWithItsScope(_ scope: RefusalScope) {
        let refusal = ServerRefusal("compiler 'gcc' is not allowed", scope: scope)
        #expect(ServerRefusal(exitCode: ExitCode.serverRefused.rawValue, stderr: refusal.stderr) == refusal)
        #expect(String(decoding: refusal.stderr, as: UTF8.self).hasPrefix("sshccd: compiler 'gcc' is not allowed\n"))
    }

    @Test func onlyARefusalIsOne() {
        let older = Array("sshccd: argument '-fplugin=x' is not allowed\n".utf8)
        #expect(ServerRefusal(exitCode: 108, stderr: older)?.scope == .job)
        #expect(ServerRefusal(exitCode: 1, stderr: older) == nil, "a compile's own status")
        #expect(ServerRefusal(exitCode: 108, stderr: Array("x.c:1: error\n".utf8)) == nil)
        let odd = Array("sshccd: m\nsshccd-scope: galaxy\n".utf8)
        #expect(ServerRefusal(exitCode: 108, stderr: odd)?.scope == .job, "an unknown scope reaches no further")
    }
}
