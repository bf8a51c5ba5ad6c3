// Making remote diagnostics look exactly like local ones. The server's compiler cannot read the client's
// source files, so gcc leaves out the source excerpt and caret lines (`    3 | int y;` / `      |     ^`).
// When the remote compile printed anything, the wrapper compiles the same preprocessed text locally, in
// the user's directory, and prints that output instead, but only if it carries exactly the same messages
// once excerpts are set aside. Status and object always come from the server.

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

    /// True when `local` says the same things as `remote` and adds only excerpt lines.
    static func sameMessages(remote: [UInt8], local: [UInt8]) -> Bool {
        messages(remote) == messages(local) && local.count >= remote.count
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
