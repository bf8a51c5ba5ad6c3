// sshcc's own options (`sshcc --show-hosts`…), for when the first argument is not a compiler.

import CompileCore
import POSIXSupport

enum Commands {
    static func run(_ command: String, _ rest: [String]) -> Int32 {
        switch command {
        case "--help", "-h":
            Console.error(Wrapper.usage)
            return 0
        case "--version":
            try? Console.write(Array("sshcc \(SSHCCVersion.string) (distcc protocol 1)\n".utf8), to: 1)
            return 0
        case "--show-hosts":
            let config = ClientConfig.fromEnvironment()
            do {
                let hosts = try config.hosts()
                var text = "# from \(hosts.source)\n"
                for spec in hosts.specs {
                    text +=
                        spec.isLocal
                        ? "localhost  local slots=\(spec.slots)\n"
                        : "\(spec)  user=\(spec.user ?? Environment.userName) host=\(spec.host) port=\(spec.port) slots=\(spec.slots)\n"
                }
                try? Console.write(Array(text.utf8), to: 1)
                return 0
            } catch {
                Console.error("sshcc: \(error)\n")
                return error.code.rawValue
            }
        default:
            Console.error("sshcc: unknown option '\(command)'\n" + Wrapper.usage)
            return ExitCode.usage.rawValue
        }
    }
}
