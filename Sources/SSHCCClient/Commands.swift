// sshcc's own options (`sshcc --show-hosts`…), for when the first argument is not a compiler.

import CompileCore
import MuxCore
import POSIXSupport

enum Commands {
    /// What may follow each command that takes no free arguments.
    static let allowedAfter: [String: Set<String>] = [
        "--help": [], "-h": [], "--version": [], "--show-hosts": [], "--stop": [], "--status": ["--watch", "--json"],
        "--jobs": [],
    ]

    static func run(_ command: String, _ rest: [String]) -> Int32 {
        if let allowed = allowedAfter[command], let extra = rest.first(where: { !allowed.contains($0) }) {
            Console.error(
                "sshcc: \(command) does not take '\(shown(extra, limit: 60))' (sshcc --help lists the options)\n")
            return ExitCode.usage.rawValue
        }
        switch command {
        case "--help", "-h":
            try? Console.write(Array(Wrapper.usage.utf8), to: .output)
            return 0
        case "--version":
            try? Console.write(
                Array(
                    "sshcc \(SSHCCVersion.string) (mux protocol \(MuxVersion.protocolNumber); its daemon speaks distcc protocols 1, 2, 4, 5, 6 and 7)\n"
                        .utf8), to: .output)
            return 0
        case "--show-hosts":
            let config = ClientConfig.fromEnvironment()
            do {
                let hosts = try config.hosts()
                var text = "# from \(hosts.source)\n"
                for problem in hosts.problems { text += "# skipped: \(problem)\n" }
                for spec in hosts.specs {
                    text +=
                        spec.isLocal
                        ? "localhost  local slots=\(spec.slots)\n"
                        : "\(spec)  user=\(spec.user ?? Environment.userName) host=\(spec.host) port=\(spec.port) slots=\(spec.slots)\n"
                }
                try? Console.write(Array(text.utf8), to: .output)
                return 0
            } catch {
                Console.error("sshcc: \(error)\n")
                return error.code.rawValue
            }
        case "--status":
            let config = ClientConfig.fromEnvironment()
            let watch = rest.contains("--watch")
            let json = rest.contains("--json")
            var waitingSaid = false
            repeat {
                let answer: String?
                do { answer = try MuxClient.status(config.muxPaths, json: json) } catch { return refuse(error) }
                if let text = answer {
                    // --watch redraws every second, like watch(1), until interrupted (JSON: one object per line).
                    // The daemon's text names hosts and servers' messages: no control byte of theirs reaches the
                    // terminal (JSON escapes them itself).
                    let shown = json ? text : Console.neutralised(text)
                    try? Console.write(Array(((watch && !json ? "\u{1b}[H\u{1b}[2J" : "") + shown).utf8), to: .output)
                    waitingSaid = false
                } else if !watch {
                    Console.error("sshcc: no mux daemon is running (\(config.muxPaths.directory))\n")
                    return 1
                } else if !waitingSaid {
                    // No daemon yet, or it stopped: the first compile (or a restart) starts one; keep watching.
                    let line =
                        "sshcc: waiting for a mux daemon (\(config.muxPaths.directory)); the next compile starts one\n"
                    try? Console.write(Array(((json ? "" : "\u{1b}[H\u{1b}[2J") + line).utf8), to: .output)
                    waitingSaid = true
                }
                if watch { CurrentProcess.sleep(milliseconds: 1000) }
            } while watch
            return 0
        case "--jobs":
            // For `make -j$(sshcc --jobs)`: what the farm runs for this user now, as the daemon sees it (servers'
            // real slots, other users' load); without a daemon, the host list's declared slots.
            let config = ClientConfig.fromEnvironment()
            var count: Int?
            if let text = try? MuxClient.status(config.muxPaths, json: false),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix(StatusWords.capacity) })
            {
                count = line.dropFirst(StatusWords.capacity.count).split(separator: " ").first.flatMap { Int($0) }
            }
            if count == nil || count == 0 {
                guard let hosts = try? config.hosts() else {
                    Console.error("sshcc: --jobs: no host list (set SSHCC_HOSTS or write ~/.sshcc/hosts)\n")
                    return ExitCode.badHostSpec.rawValue
                }
                count = hosts.specs.reduce(0) { $0 + $1.slots }
            }
            try? Console.write(Array("\(max(1, count ?? 1))\n".utf8), to: .output)
            return 0
        case "--stop":
            let paths = ClientConfig.fromEnvironment().muxPaths
            var running: FileDescriptor?
            do { running = try DaemonLauncher.connectRunning(paths) } catch { return refuse(error) }
            if let fd = running.take(), MuxClient.stop(over: fd) {
                try? Console.write(Array("sshcc: mux daemon stopped\n".utf8), to: .output)
            } else {
                try? Console.write(Array("sshcc: no mux daemon was running (\(paths.directory))\n".utf8), to: .output)
            }
            return 0
        case "doctor", "--doctor":
            // sshcc-mux walks the hosts: it links libssh2, which the wrapper keeps out of every compile.
            let config = ClientConfig.fromEnvironment()
            let specs: [HostSpec]
            let source: String
            do throws(SSHCCFailure) {
                if rest.isEmpty {
                    let hosts = try config.hosts()
                    (specs, source) = (hosts.specs, hosts.source)
                    for problem in hosts.problems {
                        Console.error("sshcc: warning: \(problem); the entry is skipped\n")
                    }
                } else {
                    do throws(HostSpecError) {
                        specs = try HostList.parse(rest.joined(separator: " "))
                    } catch {
                        throw SSHCCFailure(.badHostSpec, "\(error)")
                    }
                    source = "the command line"
                }
            } catch {
                return refuse(error)
            }
            let arguments = ["sshcc-mux", "--doctor", source] + specs.map(\.description)
            let failure = Subprocess.exec(executable: DaemonLauncher.muxExecutable, arguments: arguments)
            Console.error("sshcc: cannot run sshcc-mux for the doctor: \(failure)\n")
            return ExitCode.localIOError.rawValue
        case "--keygen":
            return KeyCommands.keygen(rest)
        case "--authorize":
            return KeyCommands.authorize(rest)
        case "--install-masquerade":
            return Masquerade.install(rest)
        default:
            Console.error("sshcc: unknown option '\(shown(command, limit: 60))' (sshcc --help lists them)\n")
            return ExitCode.usage.rawValue
        }
    }

    /// Reports a failure of sshcc's own and returns its exit code.
    static func refuse(_ failure: SSHCCFailure) -> Int32 {
        Console.error("sshcc: \(failure)\n")
        return failure.code.rawValue
    }
}
