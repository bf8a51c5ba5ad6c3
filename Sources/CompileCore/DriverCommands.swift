// The commands gcc's driver would run, read from `gcc -###` (its stderr), so that a step can run without the
// driver: sshccd runs cc1 and `as` itself, the wrapper runs the preprocessor itself. Pure text handling.

public enum DriverCommands {
    /// The commands in `gcc -###` output (its stderr): every line that starts with a space, split into
    /// arguments as the driver quoted them (`"…"` with `\"`, `\\` and `\$` escaped); nil when a quote is left
    /// open.
    public static func parse(_ text: String) -> [[String]]? {
        var commands: [[String]] = []
        for line in text.split(separator: "\n") where line.first == " " {
            guard let arguments = split(line) else { return nil }
            if !arguments.isEmpty { commands.append(arguments) }
        }
        return commands
    }

    private static func split(_ line: Substring) -> [String]? {
        var arguments: [String] = []
        var current = ""
        var inArgument = false
        var quoted = false
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if quoted {
                switch character {
                case "\\": escaped = true
                case "\"": quoted = false
                default: current.append(character)
                }
            } else if character == " " {
                if inArgument { arguments.append(current) }
                (current, inArgument) = ("", false)
            } else if character == "\"" {
                (quoted, inArgument) = (true, true)
            } else {
                current.append(character)
                inArgument = true
            }
        }
        guard !quoted, !escaped else { return nil }
        if inArgument { arguments.append(current) }
        return arguments
    }
}
