// One job on one host: open the channel, exchange request and reply, close. Transport failures become
// ClientFailures; a reply, whatever the compile's status, is a success of the transport.

import CompileCore
import DistccWire

enum RemoteJob {
    static func run(_ request: Request, on spec: HostSpec, config: ClientConfig) throws(ClientFailure) -> Reply {
        let host = try RemoteHost(spec: spec, config: config)
        do {
            var clock = PhaseClock(enabled: config.timings)
            let reply = try JobExchange.run(request, over: host)
            clock.lap("job exchange")
            _ = host.finish()
            clock.lap("channel close")
            return reply
        } catch .ended(_, receivedNothing: true) {
            // sshd reports a missing subsystem binary as exit status 127 on a channel that opened fine.
            let status = host.finish()
            if status == 127 {
                throw ClientFailure(
                    .serverRefused, "sshccd is not installed on \(spec) where its sshd_config says",
                    details: ["  fix: install sshccd at the path of the host's `Subsystem \(subsystemName) ...` line"])
            }
            throw ClientFailure(
                .serverRefused,
                "sshccd on \(spec) ended without replying (exit status \(status.map(String.init) ?? "unknown")); see its log on the host"
            )
        } catch .protocolError(let error) {
            throw ClientFailure(.protocolError, "\(spec) sent a bad reply: \(error)")
        } catch {
            throw ClientFailure(.connectFailed, "connection to \(spec) failed during the job: \(error)")
        }
    }
}
