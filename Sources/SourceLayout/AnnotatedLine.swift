// One line of `gcc -E -fdebug-cpp` output, split into its location annotations and the text between them.
// gcc prints `{P:path;F:from;L:line;C:column;S:sys;M:map;E:macro,LOC:n,R:n}` before every token it outputs
// (and before some line changes, with column 0). The printed location is where the token was spelled:
// inside a `#define` for a token that came from a macro body.

/// Where gcc says a token was spelled.
struct Annotation {
    var path: ArraySlice<UInt8>
    var line: Int
    var column: Int
}

enum LinePiece {
    case annotation(Annotation)
    case text(ArraySlice<UInt8>)
}

struct AnnotatedLine {
    var pieces: [LinePiece] = []
    /// The line without its annotations.
    var stripped: [UInt8] = []

    /// Splits `line`; nil when an annotation is malformed. (Byte loops: this runs over tens of megabytes.)
    init?(_ line: ArraySlice<UInt8>) {
        var index = line.startIndex
        var textStart = index
        while index < line.endIndex {
            guard line[index] == UInt8(ascii: "{"), index + 2 < line.endIndex, line[index + 1] == UInt8(ascii: "P"),
                line[index + 2] == UInt8(ascii: ":")
            else {
                index += 1
                continue
            }
            if textStart < index {
                pieces.append(.text(line[textStart..<index]))
                stripped += line[textStart..<index]
            }
            guard let (annotation, end) = Self.annotation(line, from: index) else { return nil }
            pieces.append(.annotation(annotation))
            index = end
            textStart = end
        }
        if textStart < line.endIndex {
            pieces.append(.text(line[textStart..<line.endIndex]))
            stripped += line[textStart..<line.endIndex]
        }
    }

    /// The index of `;K:` (K one letter) at or after `start`.
    private static func key(_ letter: UInt8, in line: ArraySlice<UInt8>, from start: Int) -> Int? {
        var index = start
        while index + 2 < line.endIndex {
            if line[index] == UInt8(ascii: ";") && line[index + 1] == letter && line[index + 2] == UInt8(ascii: ":") {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func integer(_ line: ArraySlice<UInt8>, from start: Int) -> (Int, Int)? {
        var index = start
        var negative = false
        if index < line.endIndex && line[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var value = 0
        let digitsStart = index
        while index < line.endIndex && isDigit(line[index]) {
            value = value * 10 + Int(line[index] - 0x30)
            index += 1
        }
        guard index > digitsStart, value < 1 << 40 else { return nil }
        return (negative ? -value : value, index)
    }

    /// The annotation starting at `start` (at `{P:`) and the index just past its `}`.
    private static func annotation(_ line: ArraySlice<UInt8>, from start: Int) -> (Annotation, Int)? {
        let pathStart = start + 3
        guard let pathEnd = key(UInt8(ascii: "F"), in: line, from: pathStart),
            let lineKey = key(UInt8(ascii: "L"), in: line, from: pathEnd),
            let (lineNumber, afterLine) = integer(line, from: lineKey + 3),
            let columnKey = key(UInt8(ascii: "C"), in: line, from: afterLine), columnKey == afterLine,
            let (column, afterColumn) = integer(line, from: columnKey + 3),
            let close = line[afterColumn...].firstIndex(of: UInt8(ascii: "}"))
        else { return nil }
        return (Annotation(path: line[pathStart..<pathEnd], line: lineNumber, column: column), close + 1)
    }
}
