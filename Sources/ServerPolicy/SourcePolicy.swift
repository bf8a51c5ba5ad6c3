// The server's view of the preprocessed text a client sends: even "already preprocessed" input can make the
// compiler read a server file. gcc's -fpreprocessed mode still obeys `#pragma GCC dependency "FILE"` (a fatal
// error names a missing file: existence leaks) and `#pragma GCC pch_preprocess "FILE"` (opens FILE as a
// precompiled header); clang preprocesses cpp-output input all over again, so `#include "/etc/shadow"` shows
// the file in its error messages and a macro can build any `_Pragma`. So: a directive line must be one that
// `gcc -E` writes (line markers, `#pragma` other than those two, `#ident`; `#define`/`#undef` from -dD, for gcc
// only, which does not expand them), clang text may not hold `_Pragma`, and `pch_preprocess` and `.incbin` are
// refused anywhere. Comments and backslash-newlines between a directive's tokens are seen through. Legitimate
// preprocessed code never needs the rest; a refused job falls back to a local compile.
//
// gcc's `-fdirectives-only` text (the client's preprocessor obeyed the directives, the server's compiler
// expands the macros) is checked by the same rules: its `#define`s are obeyed by the compiler, but a macro
// cannot make a directive. It can make a `_Pragma`, built from pieces no scan of the text can see (glibc's
// own headers stringize theirs); a `GCC dependency` made so can only look at what the job's sandbox lets
// the compiler see (Docs/security.md).

import CompileCore

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
        if words.contains(where: { $0.contains("\\") }) {
            return "a universal character name in directive '#\(shown(words.joined(separator: " "), limit: 60))'"
        }
        if name.first?.isNumber == true || ["line", "ident", "sccs"].contains(name) { return nil }
        if ["define", "undef"].contains(name) {
            return clang ? "'#\(name)' would be obeyed by clang (preprocessed text has none)" : nil
        }
        if name == "pragma" {
            guard words.count > 2 else { return nil }
            if words[1] == "GCC" && words[2] == "dependency" {
                return "'#pragma GCC dependency' would make the compiler look at a server file"
            }
            // clang's module pragmas load module maps and files; its __debug ones crash or dump on purpose.
            if clang && words[1] == "clang" && ["module", "__debug"].contains(words[2]) {
                return "'#pragma clang \(words[2])' is not in preprocessed text"
            }
            return nil
        }
        return "directive '#\(shown(name, limit: 40))' is not in preprocessed text and could read server files"
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
/// comments, then the directive's first words, seeing through comments and line splices.
///
/// The byte classes are the union of what gcc's libcpp and clang's lexer accept, so the scanner sees every
/// directive either compiler would obey (and at worst a few more, which only refuses more):
/// - a line ends at `\n`, `\r\n` or a lone `\r` (libcpp's line cleaner and clang both end a line at a lone CR);
/// - blanks are space, tab, form feed, vertical tab (clang; gcc stops there), NUL (both ignore it with a
///   warning), for clang any byte that is not valid UTF-8 (reported, then read past), and the Unicode spaces it "treats as whitespace" (U+0085, U+00A0, U+1680,
///   U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, in UTF-8);
/// - a splice is `\` or the trigraph `??/`, then any blanks (both accept "backslash and newline separated by
///   space"), then a line end;
/// - an identifier may hold `$`, bytes ≥ 0x80 and `\u`/`\U` escapes: such a word is never one of the allowed
///   directive names, so it is refused rather than cut short.
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

    /// Unicode spaces clang treats as whitespace, in UTF-8.
    static let unicodeBlanks: [[UInt8]] = {
        var scalars: [UInt32] = [0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
        scalars += Array(0x2000...0x200A)
        return scalars.map { Array(String(Character(Unicode.Scalar($0)!)).utf8) }
    }()

    /// True when `first` (and `second`) are the bytes at the current position; the scanner's hot path.
    func at(_ first: UInt8, _ second: UInt8) -> Bool {
        index + 1 < bytes.count && bytes[index] == first && bytes[index + 1] == second
    }

    func matches(_ form: [UInt8]) -> Bool {
        index + form.count <= bytes.count && bytes[index..<index + form.count].elementsEqual(form)
    }

    static func isLineEnd(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") }

    /// Space, tab, form feed, vertical tab, NUL.
    static func isBlankByte(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0C || byte == 0x0B || byte == 0
    }

    /// The length of the blank that starts at `position` (1 for a blank byte, 2 or 3 for a Unicode space), 0 when
    /// none does.
    func blankLength(at position: Int) -> Int {
        guard position < bytes.count else { return 0 }
        let byte = bytes[position]
        if Self.isBlankByte(byte) { return 1 }
        guard byte >= 0x80 else { return 0 }
        // clang reports a byte that is not valid UTF-8 and reads on as if it were a blank.
        guard validUTF8Length(at: position) > 0 else { return 1 }
        for form in Self.unicodeBlanks
        where position + form.count <= bytes.count && bytes[position..<position + form.count].elementsEqual(form) {
            return form.count
        }
        return 0
    }

    /// The length of the valid UTF-8 sequence (RFC 3629: no overlong forms, surrogates or values past
    /// U+10FFFF) that starts at `position`, 0 when the bytes there are not one.
    func validUTF8Length(at position: Int) -> Int {
        let lead = bytes[position]
        let (length, second): (Int, ClosedRange<UInt8>) =
            switch lead {
            case 0xC2...0xDF: (2, 0x80...0xBF)
            case 0xE0: (3, 0xA0...0xBF)
            case 0xED: (3, 0x80...0x9F)
            case 0xE1...0xEF: (3, 0x80...0xBF)
            case 0xF0: (4, 0x90...0xBF)
            case 0xF1...0xF3: (4, 0x80...0xBF)
            case 0xF4: (4, 0x80...0x8F)
            default: (0, 0x80...0xBF)
            }
        guard length > 0, position + length <= bytes.count, second.contains(bytes[position + 1]) else { return 0 }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[position + offset]) { return 0 }
        return length
    }

    /// Skips blanks, comments (a block comment may span lines) and line splices.
    mutating func skipBlanks() {
        while index < bytes.count {
            if case let blank = blankLength(at: index), blank > 0 {
                index += blank
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

    /// The length of a line splice here (`\` or `??/`, blanks, a line end), 0 when there is none.
    func spliceLength() -> Int {
        var end = index
        if end < bytes.count, bytes[end] == UInt8(ascii: "\\") {
            end += 1
        } else if matches(Self.trigraphBackslash) {
            end += 3
        } else {
            return 0
        }
        while end < bytes.count, Self.isBlankByte(bytes[end]), bytes[end] != 0 { end += 1 }
        guard end < bytes.count, Self.isLineEnd(bytes[end]) else { return 0 }
        if bytes[end] == UInt8(ascii: "\r"), end + 1 < bytes.count, bytes[end + 1] == UInt8(ascii: "\n") { end += 1 }
        return end + 1 - index
    }

    static let trigraphBackslash = Array("??/".utf8)

    /// An identifier or number, read through splices; nil when none starts here.
    mutating func word() -> String? {
        var word: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if case let splice = spliceLength(), splice > 0 {
                index += splice
            } else if byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$")
                || (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
                || byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            {
                word.append(byte)
                index += 1
            } else if byte >= 0x80, blankLength(at: index) == 0 {
                // A character of valid UTF-8 that is not a space: part of the identifier.
                let length = validUTF8Length(at: index)
                word += bytes[index..<index + length]
                index += length
            } else if byte == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] | 0x20 == UInt8(ascii: "u")
            {
                // A universal character name continues the identifier.
                word += [byte, bytes[index + 1]]
                index += 2
            } else {
                break
            }
        }
        return word.isEmpty ? nil : String(decoding: word, as: UTF8.self)
    }

    /// Moves past the end of the line (through block comments, which span lines for gcc and clang alike).
    /// A splice does not continue the line here: gcc's -fpreprocessed mode does not splice, so the next
    /// physical line may be a directive to gcc (clang splices; looking at the line anyway can only refuse
    /// more). String and character literals and `//` comments are skipped so that a `/*` inside them does
    /// not hide the next lines; they end at the line's end at the latest.
    mutating func skipLine() {
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isLineEnd(byte) {
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
        while index < bytes.count, !Self.isLineEnd(bytes[index]) {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count, !Self.isLineEnd(bytes[index + 1]) {
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
