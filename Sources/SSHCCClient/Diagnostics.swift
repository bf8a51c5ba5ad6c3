// Making remote diagnostics look exactly like local ones. The server's compiler cannot read the client's
// source files, so gcc leaves out the source excerpt and caret lines (`    3 | int y;` / `      |     ^`),
// and it compiles macro-expanded text, so columns after an expansion shift and "in expansion of macro"
// notes are missing. When the remote compile printed anything, the wrapper runs the user's own command
// locally (output thrown away) and prints that instead, but only if it reports the same problems at the
// same lines. Status and object always come from the server.

import POSIXSupport

enum Diagnostics {
    /// True for gcc's source excerpt, caret and fix-it lines: `  12 | code`, `     |   ^~~`, `  +++ |+#include`.
    static func isExcerptLine(_ line: Substring) -> Bool {
        var rest = line.drop(while: { $0 == " " })
        if rest.hasPrefix("+++") {
            rest = rest.dropFirst(3)
        } else {
            rest = rest.drop(while: { $0.isNumber })
        }
        rest = rest.drop(while: { $0 == " " })
        return rest.hasPrefix("|") && line.first == " "
    }

    /// The message lines of a compiler's stderr, colours removed, excerpts left out, quotes made plain:
    /// gcc quotes with ‘ ’ in a UTF-8 locale and with ' ' under sshd, which passes no LANG by default.
    static func messages(_ stderr: [UInt8]) -> [String] {
        let text = stripColor(String(decoding: stderr, as: UTF8.self))
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { !isExcerptLine($0) }.map { line in
            String(line.map { "‘’".contains($0) ? "'" : "“”".contains($0) ? "\"" : $0 })
        }
    }

    /// True when `local` reports the same problems at the same lines as `remote`: excerpt lines, notes and
    /// column numbers may differ (macro expansion moves columns in preprocessed text).
    static func sameMessages(remote: [UInt8], local: [UInt8]) -> Bool {
        let keep = { (line: String) in !line.contains(": note: ") && !line.isEmpty }
        return problems(remote, keep) == problems(local, keep)
    }

    /// The message lines `keep` accepts, without their columns.
    static func problems(_ stderr: [UInt8], _ keep: (String) -> Bool) -> [String] {
        messages(stderr).filter(keep).map(withoutColumn)
    }

    /// True when every problem `local` reports is among `remote`'s: the remote compile only added warnings.
    /// That happens for tokens of system-header macros in user code, which a local compile treats as system
    /// tokens (warnings suppressed) and the remote one does not when the -g layout dropped gcc's switches.
    static func coversLocal(remote: [UInt8], local: [UInt8]) -> Bool {
        let keep = { (line: String) in line.contains(": warning: ") || line.contains(": error: ") }
        return Set(problems(local, keep)).isSubset(of: Set(problems(remote, keep)))
    }

    /// `file:12:34: error: …` → `file:12: error: …`.
    static func withoutColumn(_ line: String) -> String {
        let parts = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[1].allSatisfy(\.isNumber), !parts[1].isEmpty, parts[2].allSatisfy(\.isNumber),
            !parts[2].isEmpty
        else { return line }
        return "\(parts[0]):\(parts[1]):\(parts[3])"
    }

    /// Removes ANSI SGR colour sequences (`ESC [ … m`) and gcc's URL escapes (`ESC ] 8 ; ; … ESC \`).
    static func stripColor(_ text: String) -> String {
        var result = ""
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "\u{1b}" else {
                result.unicodeScalars.append(scalar)
                continue
            }
            guard let kind = scalars.next() else { break }
            if kind == "[" {
                while let next = scalars.next(), !(next.properties.isAlphabetic) {}
            } else if kind == "]" {
                var previous: Unicode.Scalar = " "
                while let next = scalars.next() {
                    if next == "\u{07}" || (previous == "\u{1b}" && next == "\\") { break }
                    previous = next
                }
            }
        }
        return result
    }
}
