// gcc's `-E -fdirectives-only` text: the preprocessor obeys the directives (includes, conditionals, line
// markers, `#define`s kept as written) and leaves every other line as the source spelled it, so the server's
// compiler expands the macros where a local compile does, at the same lines and columns, with the same
// definitions: its object is a local compile's, `-g` line tables and columns included. A few things the text
// cannot carry, and for them the client sends plain `-E` text instead (or compiles locally when that would
// move `-g` columns):
// - macros whose value depends on where the compiler runs: `__DATE__`, `__TIME__` (with SOURCE_DATE_EPOCH
//   a local build fixes them), `__TIMESTAMP__` (the source file's time), `__BASE_FILE__` (the name on the
//   compiler's command line), `__INCLUDE_LEVEL__`;
// - pragmas the preprocessor carries out itself and leaves a line of blanks for (measured with gcc 12):
//   `once`, `GCC system_header`, `GCC warning`/`GCC error` (reported here), `GCC dependency` need nothing
//   more, but `push_macro`/`pop_macro` (the pop is written as `#undef`: the restored definition is lost) and
//   `GCC poison` (the compiler would not see it) do. Every directive the preprocessor carried out leaves its
//   indentation (a pragma: seven blanks more), so a line of blanks is looked up in its source file (named by
//   the last line marker); one followed by the same file's marker with the system-header flag is
//   `system_header`'s.

import CPOSIX
import Glibc
import POSIXSupport

public enum DirectivesOnlyText {
    /// Why `text` cannot be compiled exactly elsewhere, or nil when it can. `readFile` gives a source file's
    /// bytes (nil when it cannot be read: such a line counts as a pragma that needs plain text).
    public static func plainTextReason(_ text: [UInt8], readFile: (String) -> [UInt8]?) -> String? {
        for name in contextualMacros where contains(text, name) {
            return "it uses \(String(decoding: name, as: UTF8.self)), whose value depends on where it is compiled"
        }
        var files: [String: SourceLines] = [:]
        var marker: (path: String, line: Int)?
        var linesSinceMarker = 0
        var previousBlank: (path: String, line: Int)?
        var start = 0
        while start < text.count {
            let end = lineEnd(text, from: start)
            let line = text[start..<end]
            defer {
                start = end + 1
                linesSinceMarker += 1
            }
            if line.first == UInt8(ascii: "#"), let parsed = LineMarker(line) {
                let path = String(decoding: parsed.path, as: UTF8.self)
                // A `system_header` pragma's blank line is followed by its own file's system marker.
                if let blank = previousBlank,
                    !(blank.path == path && blank.line + 1 == parsed.line && !parsed.systemFlags.isEmpty),
                    let reason = pragmaReason(blank, files: &files, readFile: readFile)
                {
                    return reason
                }
                previousBlank = nil
                marker = (path, parsed.line)
                linesSinceMarker = -1
                continue
            }
            if let blank = previousBlank, let reason = pragmaReason(blank, files: &files, readFile: readFile) {
                return reason
            }
            previousBlank = nil
            if !line.isEmpty, line.allSatisfy({ $0 == 0x20 }), let marker {
                previousBlank = (marker.path, marker.line + linesSinceMarker)
            }
        }
        if let blank = previousBlank { return pragmaReason(blank, files: &files, readFile: readFile) }
        return nil
    }

    static let contextualMacros = ["__DATE__", "__TIME__", "__TIMESTAMP__", "__BASE_FILE__", "__INCLUDE_LEVEL__"]
        .map { Array($0.utf8) }

    /// Pragmas the preprocessor consumes whose effect needs nothing from the compiler.
    static let harmlessPragmas: [[String]] = [
        ["once"], ["GCC", "system_header"], ["GCC", "warning"], ["GCC", "error"], ["GCC", "dependency"],
    ]

    /// A source file and where its lines start.
    struct SourceLines {
        let bytes: [UInt8]
        let starts: [Int]

        init(_ bytes: [UInt8]) {
            var starts = [0]
            var index = 0
            while index < bytes.count {
                index = DirectivesOnlyText.lineEnd(bytes, from: index) + 1
                if index <= bytes.count { starts.append(index) }
            }
            (self.bytes, self.starts) = (bytes, starts)
        }

        /// Line `number` (from 1), without its line end; nil past the end.
        func line(_ number: Int) -> ArraySlice<UInt8>? {
            guard number >= 1, number < starts.count || (number == starts.count && starts.last! < bytes.count)
            else { return nil }
            let start = starts[number - 1]
            let end = number < starts.count ? starts[number] - 1 : bytes.count
            return bytes[start..<max(start, end)]
        }
    }

    /// Why the blank line at `location` (a source line of blanks, or what a carried-out directive left)
    /// needs plain text.
    static func pragmaReason(
        _ location: (path: String, line: Int), files: inout [String: SourceLines], readFile: (String) -> [UInt8]?
    ) -> String? {
        if files[location.path] == nil, let bytes = readFile(location.path) {
            files[location.path] = SourceLines(bytes)
        }
        guard let line = files[location.path]?.line(location.line) else {
            return "a pragma at \(location.path):\(location.line) cannot be looked up"
        }
        let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
            .prefix(4).map { String(decoding: $0, as: UTF8.self) }
        if words.isEmpty { return nil }  // a line of blanks in the source itself
        var directive = words
        if directive.first == "#" {
            directive.removeFirst()
        } else if let first = directive.first, first.hasPrefix("#") {
            directive[0] = String(first.dropFirst())
        }
        guard words[0].hasPrefix("#") else {
            return "line \(location.path):\(location.line) was consumed by the preprocessor but is not a directive"
        }
        guard directive.first == "pragma" else { return nil }  // a conditional, an include…: done here
        let pragma = Array(directive.dropFirst())
        if harmlessPragmas.contains(where: { pragma.starts(with: $0) }) { return nil }
        return "'#pragma \(pragma.prefix(2).joined(separator: " "))' at \(location.path):\(location.line) is carried "
            + "out by the preprocessor (push_macro, pop_macro and poison need the compiler to see them)"
    }

    /// The index of the next line feed at or after `start`, or the end (memchr: the text is megabytes).
    static func lineEnd(_ text: [UInt8], from start: Int) -> Int {
        text.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, let found = memchr(base + start, 0x0A, buffer.count - start) else {
                return buffer.count
            }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { ByteSearch.contains(haystack, needle) }
}
