// Where sshccd's settings come from: its configuration file, then the command line (which overrides it).
// Reads the file only after checking that no one but root or this account could have written it.

import CompileCore
import POSIXSupport

extension ServerOptions {
    /// sshccd's settings from the configuration file (`--config FILE`, else the default file if it exists;
    /// `--config none` reads none) and `commandLine`. A mistake on the command line throws; a configuration
    /// file that cannot be trusted or read, or holds a bad line, sets `configurationProblem` instead, so
    /// that every client hears why its jobs are refused.
    public static func load(_ commandLine: [String], defaultConfig: String = ServerConfigFile.defaultPath)
        throws(UsageError) -> Parsed
    {
        var named: String?
        for (index, argument) in commandLine.enumerated() where argument == "--config" && index + 1 < commandLine.count
        {
            named = commandLine[index + 1]
        }
        let path = named ?? defaultConfig
        var fileArguments: [String] = []
        var problem: String?
        let reads = path != "none" && (named != nil || Files.exists(path))
        if reads {
            do throws(UsageError) {
                fileArguments = try settings(in: path)
            } catch {
                problem = "its configuration is not usable: \(error.description)"
            }
        }
        var parsed = try parse(fileArguments + commandLine)
        switch parsed {
        case .run(var options), .showConfig(var options), .status(var options, _):
            options.configFile = reads ? path : nil
            options.configurationProblem = problem
            options.logPattern = options.logPath
            options.logPath = expandingTokens(options.logPath)
            parsed =
                switch parsed {
                case .run: .run(options)
                case .status(_, let json): .status(options, json: json)
                default: .showConfig(options)
                }
        case .help, .version: break
        }
        return parsed
    }

    /// The arguments the configuration file at `path` stands for.
    static func settings(in path: String) throws(UsageError) -> [String] {
        if let problem = Files.trustedFileProblem(path) {
            throw UsageError(
                "\(path): \(problem); it must belong to root or this account and be writable by no one else")
        }
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: 1 << 20)
        } catch {
            throw UsageError("\(path): \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw UsageError("\(path): not UTF-8 text")
        }
        return try ServerConfigFile.arguments(text, path: path)
    }

    /// `%u` (the account's name), `%h` (its home directory) and `%%` in a path, so that one configuration
    /// gives every account of a shared server its own log.
    static func expandingTokens(_ path: String) -> String {
        var out = ""
        var percent = false
        for character in path {
            if percent {
                switch character {
                case "u": out += Environment.userName
                case "h": out += Environment.home
                default: out.append(character)
                }
                percent = false
            } else if character == "%" {
                percent = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
