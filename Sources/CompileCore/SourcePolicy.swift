// The server's view of the preprocessed text a client sends: even "already preprocessed" input can make the
// compiler read a server file. gcc's -fpreprocessed mode still obeys `#pragma GCC dependency "FILE"` (a fatal
// error names a missing file: existence leaks) and `#pragma GCC pch_preprocess "FILE"` (opens FILE as a
// precompiled header); clang preprocesses cpp-output input all over again, so `#include "/etc/shadow"` shows
// the file in its error messages and a macro can build any `_Pragma`. So: a directive line must be one that
// `gcc -E` writes (line markers, `#pragma` other than those two, `#ident`; `#define`/`#undef` from -dD, for gcc
// only, which does not expand them), clang text may not hold `_Pragma`, and `pch_preprocess` and `.incbin` are
// refused anywhere. Comments and backslash-newlines between a directive's tokens are seen through. Legitimate
// preprocessed code never needs the rest; a refused job falls back to a local compile.

public enum SourcePolicy {
    /// Byte sequences whose presence anywhere makes the server refuse a source, with why.
    static let forbidden: [(bytes: [UInt8], reason: String)] = [
        (Array("pch_preprocess".utf8), "'#pragma GCC pch_preprocess' would make the compiler open a server file"),
        (Array(".incbin".utf8), "assembler '.incbin' would embed a server file in the object"),
    ]

    /// The reason `source` is refused, or nil when it may be compiled by gcc (`clang: false`) or clang.
    public static func refusal(_ source: [UInt8], clang: Bool = false) -> String? {
        for rule in forbidden where contains(source, rule.bytes) {
            return "the source is refused: \(rule.reason)"
        }
        if clang, contains(source, Array("_Pragma".utf8)) {
            return "the source is refused: clang would expand '_Pragma' (preprocessed text has none)"
        }
        var scanner = DirectiveScanner(source)
        while let directive = scanner.nextDirective() {
            if let reason = refusal(directive, clang: clang) { return "the source is refused: \(reason)" }
        }
        return nil
    }

    /// Why a directive (its first two words) may not reach the compiler, or nil.
    static func refusal(_ words: [String], clang: Bool) -> String? {
        guard let name = words.first else { return nil }  // a lone `#` is a null directive
        if name.first?.isNumber == true || ["line", "ident", "sccs"].contains(name) { return nil }
        if ["define", "undef"].contains(name) {
            return clang ? "'#\(name)' would be obeyed by clang (preprocessed text has none)" : nil
        }
        if name == "pragma" {
            return words.count > 2 && words[1] == "GCC" && words[2] == "dependency"
                ? "'#pragma GCC dependency' would make the compiler look at a server file" : nil
        }
        return "directive '#\(name)' is not in preprocessed text and could read server files"
    }

    /// Plain substring search; the needles are short and the check runs once per job.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}

/// Finds directive lines the way a C preprocessor does: `#`, `%:` or `??=` first on a line after blanks and
/// comments, then the directive's first words, seeing through comments and backslash-newlines.
struct DirectiveScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The first three words of the next directive (empty for a null directive), nil at the end.
    mutating func nextDirective() -> [String]? {
        while index < bytes.count {
            skipBlanks()
            if introducer() {
                var words: [String] = []
                while words.count < 3 {
                    skipBlanks()
                    guard let word = word() else { break }
                    words.append(word)
                }
                skipLine()
                return words
            }
            skipLine()
        }
        return nil
    }

    /// Consumes `#`, `%:` or `??=` if one is here.
    mutating func introducer() -> Bool {
        for form in Self.introducers where matches(form) {
            index += form.count
            return true
        }
        return false
    }

    static let introducers = ["#", "%:", "??="].map { Array($0.utf8) }

    /// True when `first` (and `second`) are the bytes at the current position; the scanner's hot path.
    func at(_ first: UInt8, _ second: UInt8) -> Bool {
        index + 1 < bytes.count && bytes[index] == first && bytes[index + 1] == second
    }

    func matches(_ form: [UInt8]) -> Bool {
        index + form.count <= bytes.count && bytes[index..<index + form.count].elementsEqual(form)
    }

    /// Skips spaces, tabs, comments (a block comment may span lines) and backslash-newlines.
    mutating func skipBlanks() {
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                index += 1
            } else if case let splice = spliceLength(), splice > 0 {
                index += splice
            } else if at(UInt8(ascii: "/"), UInt8(ascii: "*")) {
                skipBlockComment()
            } else {
                return
            }
        }
    }

    /// Moves past the `/* … */` that starts here (to the end when it is not closed).
    mutating func skipBlockComment() {
        index += 2
        while index < bytes.count, !at(UInt8(ascii: "*"), UInt8(ascii: "/")) { index += 1 }
        index = min(index + 2, bytes.count)
    }

    /// The length of a backslash-newline here (with an optional carriage return), 0 when there is none.
    func spliceLength() -> Int {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\\") else { return 0 }
        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { return 2 }
        if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") {
            return 3
        }
        return 0
    }

    /// An identifier or number, read through backslash-newlines; nil when none starts here.
    mutating func word() -> String? {
        var word: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if case let splice = spliceLength(), splice > 0 {
                index += splice
            } else if byte == UInt8(ascii: "_")
                || (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
                || byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            {
                word.append(byte)
                index += 1
            } else {
                break
            }
        }
        return word.isEmpty ? nil : String(decoding: word, as: UTF8.self)
    }

    /// Moves past the end of the line (through block comments, which span lines for gcc and clang alike).
    /// A backslash-newline does not continue the line here: gcc's -fpreprocessed mode does not splice, so the
    /// next physical line may be a directive to gcc (clang splices; looking at the line anyway can only refuse
    /// more). String and character literals and `//` comments are skipped so that a `/*` inside them does
    /// not hide the next lines; they end at the line's end at the latest.
    mutating func skipLine() {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                index += 1
                return
            }
            if at(UInt8(ascii: "/"), UInt8(ascii: "*")) {
                skipBlockComment()
            } else if at(UInt8(ascii: "/"), UInt8(ascii: "/")) {
                skipToLineEnd(quote: nil)
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                index += 1
                skipToLineEnd(quote: byte)
            } else {
                index += 1
            }
        }
    }

    /// Skips to the closing `quote` (past backslash escapes), or to the line's end (not past it) when there is
    /// none or `quote` is nil.
    mutating func skipToLineEnd(quote: UInt8?) {
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "\n") {
                index += 2
                continue
            }
            if let quote, bytes[index] == quote {
                index += 1
                return
            }
            index += 1
        }
    }
}
