// sshccd: the compile server. sshd runs it as the `sshcc` subsystem; it serves requests on stdin/stdout.
// Everything but option handling and exit lives in SSHCCServer.

import CompileCore
import FileLogging
import Logging
import POSIXSupport
import SSHCCServer

CurrentProcess.ignoreBrokenPipes()
let options: ServerOptions
do {
    switch try ServerOptions.load(Array(CommandLine.arguments.dropFirst())) {
    case .run(let parsed): options = parsed
    case .showConfig(let parsed):
        if let problem = parsed.configurationProblem {
            Console.error("sshccd: \(problem)\n")
            CurrentProcess.exit(ExitCode.usage.rawValue)
        }
        print("# sshccd's settings\(parsed.configFile.map { " (from \($0) and the command line)" } ?? "")")
        print(ServerConfigFile.render(parsed), terminator: "")
        CurrentProcess.exit(0)
    case .status(let parsed, let json):
        let status = ServerStatus.gather(parsed)
        print(json ? status.json() : status.render(), terminator: "")
        CurrentProcess.exit(0)
    case .help:
        print(ServerOptions.usage)
        CurrentProcess.exit(0)
    case .version:
        print("sshccd \(SSHCCVersion.string) (distcc protocols 1, 2, 4, 5, 6 and 7)")
        CurrentProcess.exit(0)
    }
} catch {
    Console.error("sshccd: \(error)\n\(ServerOptions.usage)\n")
    CurrentProcess.exit(101)
}

var logger = Logger(label: "sshccd") { label in FileLogHandler(label: label, path: options.logPath) }
// Every line names the client: the account, its address, and the key it logged in with when sshd exposes it
// (`ExposeAuthInfo yes`).
logger[metadataKey: "client"] = .string(
    ClientIdentity.from(environment: Environment.get, account: Environment.userName) { path in
        try? Files.read(path, limit: 64 << 10)
    }.text)
if let problem = options.configurationProblem { logger.error("refusing every job: \(problem)") }
var runner = JobRunner(options: options, logger: logger)
// The loop closes stdin and stdout when it ends: the client has its replies and sees the stream end before
// the sweep below, which is off the latency path (listing a busy /tmp costs ~1 ms).
let end = RequestLoop.serve(
    input: FileDescriptor(owning: StandardStream.input.rawValue),
    output: FileDescriptor(owning: StandardStream.output.rawValue), runner: &runner, logger: logger,
    signals: SignalPipe.install([.terminate]))
StaleJobs.sweep(in: options.temporaryDirectory, logger: logger)
if runner.jobsServed > 0 || end != .finished {
    logger.info("session ended: \(end), \(runner.jobsServed) jobs served")
}
CurrentProcess.exit(end.exitCode)
