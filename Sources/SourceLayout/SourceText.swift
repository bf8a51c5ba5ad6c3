// One original source file as the relayout reads it: positions by line and column, and just enough C lexing
// to step over blanks, find the token at a position, and recognise a macro invocation with its extent.
// Columns are 1-based byte columns, as gcc counts them.

struct SourceText {
    let bytes: [UInt8]
    /// Offset of the first byte of each line; lineStarts[0] is line 1.
    let lineStarts: [Int]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(index + 1) }
        lineStarts = starts
    }

    func offset(line: Int, column: Int) -> Int? {
        guard line >= 1, line <= lineStarts.count, column >= 1 else { return nil }
        let offset = lineStarts[line - 1] + column - 1
        return offset <= bytes.count ? offset : nil
    }

    /// Offset just past the end of `line` (its newline included), or the end of the file.
    func endOfLine(_ line: Int) -> Int { line < lineStarts.count ? lineStarts[line] : bytes.count }

    func position(of offset: Int) -> (line: Int, column: Int) {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return (low + 1, offset - lineStarts[low] + 1)
    }

    func has(_ token: ArraySlice<UInt8>, at offset: Int) -> Bool {
        offset + token.count <= bytes.count && bytes[offset..<offset + token.count].elementsEqual(token)
    }

    /// The start of the next token at or after `offset` (before `limit`): skips white space, comments, escaped
    /// newlines and whole directive lines.
    func skipBlank(_ start: Int, limit: Int? = nil) -> Int {
        let end = min(limit ?? bytes.count, bytes.count)
        var offset = start
        while offset < end {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C: offset += 1
            case UInt8(ascii: "\\") where offset + 1 < end && bytes[offset + 1] == 0x0A: offset += 2
            case UInt8(ascii: "/") where offset + 1 < end && bytes[offset + 1] == UInt8(ascii: "*"):
                offset = commentEnd(offset + 2)
            case UInt8(ascii: "/") where offset + 1 < end && bytes[offset + 1] == UInt8(ascii: "/"):
                offset = lineEnd(offset, stopAtComments: false)
            case UInt8(ascii: "#") where startsLine(offset):
                offset = lineEnd(offset, stopAtComments: true)
            default: return offset
            }
        }
        return end
    }

    /// The end of the token that starts at `offset` (identifiers, pp-numbers, literals; other bytes alone).
    func tokenEnd(_ offset: Int) -> Int {
        let byte = bytes[offset]
        if isIdentifierStart(byte) {
            var end = offset
            while end < bytes.count && isIdentifierBody(bytes[end]) { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") || bytes[end] == UInt8(ascii: "'"),
                Self.literalPrefixes.contains(Array(bytes[offset..<end]))
            {
                return literalEnd(end)
            }
            return end
        }
        if isDigit(byte) || (byte == UInt8(ascii: ".") && offset + 1 < bytes.count && isDigit(bytes[offset + 1])) {
            var end = offset + 1
            while end < bytes.count {
                let next = bytes[end]
                let exponentSign =
                    (next == UInt8(ascii: "+") || next == UInt8(ascii: "-"))
                    && "eEpP".utf8.contains(bytes[end - 1])
                guard isIdentifierBody(next) || next == UInt8(ascii: ".") || exponentSign else { break }
                end += 1
            }
            return end
        }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { return literalEnd(offset) }
        return offset + 1
    }

    /// The identifier at `offset`, if one starts there.
    func identifier(at offset: Int) -> Substring? {
        guard offset < bytes.count, isIdentifierStart(bytes[offset]) else { return nil }
        var end = offset
        while end < bytes.count && isIdentifierBody(bytes[end]) { end += 1 }
        return Substring(decoding: bytes[offset..<end], as: UTF8.self)
    }

    /// A macro invocation starting at `offset`: the macro's name and the offset just past the invocation
    /// (past the closing parenthesis of a function-like macro's arguments).
    func invocation(at offset: Int, _ macros: MacroTable) -> (name: Substring, end: Int)? {
        guard let name = identifier(at: offset), let functionLike = macros.isFunctionLike(name) else { return nil }
        let nameEnd = offset + name.utf8.count
        guard functionLike else { return (name, nameEnd) }
        var cursor = skipBlank(nameEnd)
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "(") else { return nil }
        var depth = 0
        while cursor < bytes.count {
            if bytes[cursor] == UInt8(ascii: "(") { depth += 1 }
            if bytes[cursor] == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 { return (name, cursor + 1) }
            }
            cursor = skipBlank(tokenEnd(cursor))
        }
        return nil
    }

    /// True when `line` is `#pragma GCC system_header`.
    func isSystemHeaderPragma(line: Int) -> Bool {
        guard let start = offset(line: line, column: 1) else { return false }
        let words = bytes[start..<endOfLine(line)].split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A })
        let text = words.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
        return text == "#pragma GCC system_header" || text == "# pragma GCC system_header"
    }

    /// The name a `#define` on `line` defines, if the line is one.
    func definedName(line: Int) -> Substring? {
        guard var offset = self.offset(line: line, column: 1) else { return nil }
        func skipSpaces() {
            while offset < bytes.count && (bytes[offset] == 0x20 || bytes[offset] == 0x09) { offset += 1 }
        }
        skipSpaces()
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "#") else { return nil }
        offset += 1
        skipSpaces()
        guard has(ArraySlice("define".utf8), at: offset) else { return nil }
        offset += 6
        let before = offset
        skipSpaces()
        guard offset > before else { return nil }
        return identifier(at: offset)
    }

    // MARK: lexing helpers

    private static let literalPrefixes: Set<[UInt8]> = Set(
        ["L", "u", "U", "u8", "R", "LR", "uR", "UR", "u8R"].map { Array($0.utf8) })

    private func startsLine(_ offset: Int) -> Bool {
        var index = offset - 1
        while index >= 0 && (bytes[index] == 0x20 || bytes[index] == 0x09) { index -= 1 }
        return index < 0 || bytes[index] == 0x0A
    }

    private func commentEnd(_ start: Int) -> Int {
        var offset = start
        while offset + 1 < bytes.count {
            if bytes[offset] == UInt8(ascii: "*") && bytes[offset + 1] == UInt8(ascii: "/") { return offset + 2 }
            offset += 1
        }
        return bytes.count
    }

    /// The newline ending the logical line at `start` (escaped newlines continue it).
    private func lineEnd(_ start: Int, stopAtComments: Bool) -> Int {
        var offset = start
        while offset < bytes.count && bytes[offset] != 0x0A {
            if bytes[offset] == UInt8(ascii: "\\") && offset + 1 < bytes.count && bytes[offset + 1] == 0x0A {
                offset += 2
            } else if stopAtComments, bytes[offset] == UInt8(ascii: "/"), offset + 1 < bytes.count,
                bytes[offset + 1] == UInt8(ascii: "*")
            {
                offset = commentEnd(offset + 2)
            } else {
                offset += 1
            }
        }
        return offset
    }

    private func literalEnd(_ start: Int) -> Int {
        let quote = bytes[start]
        var offset = start + 1
        while offset < bytes.count && bytes[offset] != quote && bytes[offset] != 0x0A {
            offset += bytes[offset] == UInt8(ascii: "\\") ? 2 : 1
        }
        return min(offset + 1, bytes.count)
    }
}

func isIdentifierStart(_ byte: UInt8) -> Bool {
    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == UInt8(ascii: "_") || byte >= 0x80
}

func isIdentifierBody(_ byte: UInt8) -> Bool { isIdentifierStart(byte) || isDigit(byte) }

func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
